package pgstat

import (
	"math"
	"strconv"
	"testing"
)

// jn builds a raw JSON node for the table tests: per-loop total time,
// loops, and children.
func jn(typ string, total, loops float64, extra string, children ...string) string {
	s := `{"Node Type":"` + typ + `","Plan Rows":10,"Actual Rows":10,"Actual Total Time":` +
		ftoa(total) + `,"Actual Loops":` + ftoa(loops)
	if extra != "" {
		s += "," + extra
	}
	if len(children) > 0 {
		s += `,"Plans":[`
		for i, c := range children {
			if i > 0 {
				s += ","
			}
			s += c
		}
		s += "]"
	}
	return s + "}"
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func TestSelfTime(t *testing.T) {
	cases := []struct {
		name string
		plan string
		want map[int][2]float64 // node ID → {inclusive, exclusive}
	}{
		{"loops multiply", jn("Nested Loop", 50, 1, "",
			jn("Seq Scan", 10, 1, ""),
			jn("Index Scan", 0.004, 10000, `"Parent Relationship":"Inner"`)),
			map[int][2]float64{1: {50, 0}, 2: {10, 10}, 3: {40, 40}}},
		{"workers divide", jn("Gather", 100, 1, `"Workers Planned":2,"Workers Launched":2`,
			jn("Aggregate", 90, 3, "", jn("Seq Scan", 60, 3, ""))),
			map[int][2]float64{1: {100, 10}, 2: {90, 30}, 3: {60, 60}}},
		{"fewer workers launched than planned", jn("Gather", 100, 1, `"Workers Planned":4,"Workers Launched":1`,
			jn("Seq Scan", 80, 2, "")),
			map[int][2]float64{1: {100, 20}, 2: {80, 80}}},
		{"child rounding clamps at zero", jn("Hash", 1.0, 1, "", jn("Seq Scan", 1.2, 1, "")),
			map[int][2]float64{1: {1, 0}, 2: {1.2, 1.2}}},
		{"subplan subtracted from its parent", jn("Seq Scan", 30, 1, `"Filter":"(SubPlan 1)"`,
			jn("Index Scan", 0.01, 1000, `"Parent Relationship":"SubPlan","Subplan Name":"SubPlan 1"`)),
			map[int][2]float64{1: {30, 20}, 2: {10, 10}}},
		{"initplan taken from the node using its parameter", jn("Nested Loop", 50, 1,
			"",
			jn("Aggregate", 5, 1, `"Parent Relationship":"InitPlan","Subplan Name":"InitPlan 1 (returns $1)"`,
				jn("Seq Scan", 4, 1, "")),
			jn("Seq Scan", 20, 1, `"Parent Relationship":"Outer","Filter":"(x > $10)"`),
			jn("Index Scan", 25, 1, `"Parent Relationship":"Inner","Index Cond":"(y = $1)"`)),
			map[int][2]float64{1: {50, 5}, 2: {5, 1}, 3: {4, 4}, 4: {20, 20}, 5: {25, 20}}},
		{"initplan named as in PostgreSQL 16", jn("Result", 6, 1, `"Filter":"((InitPlan 1).col1 > 2)"`,
			jn("Aggregate", 5, 1, `"Parent Relationship":"InitPlan","Subplan Name":"InitPlan 1"`)),
			map[int][2]float64{1: {6, 1}, 2: {5, 5}}},
		{"CTE time leaves the CTE scans", jn("Append", 100, 1, "",
			jn("HashAggregate", 60, 1, `"Parent Relationship":"InitPlan","Subplan Name":"CTE big"`),
			jn("CTE Scan", 50, 1, `"CTE Name":"big","Parent Relationship":"Member"`),
			jn("CTE Scan", 40, 1, `"CTE Name":"big","Parent Relationship":"Member"`)),
			map[int][2]float64{1: {100, 10}, 2: {60, 60}, 3: {50, 0}, 4: {40, 30}}},
		{"never executed", jn("Hash Join", 5, 1, "",
			jn("Seq Scan", 5, 1, ""), jn("Hash", 0, 0, "", jn("Seq Scan", 0, 0, ""))),
			map[int][2]float64{1: {5, 0}, 3: {0, 0}, 4: {0, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse([]byte(`[{"Plan":` + c.plan + `,"Execution Time":100}]`))
			if err != nil {
				t.Fatal(err)
			}
			for id, w := range c.want {
				n := p.Nodes[id-1]
				if !near(n.Inclusive, w[0]) || !near(n.Exclusive, w[1]) {
					t.Errorf("node %d %s: inclusive %.4f exclusive %.4f, want %.4f %.4f",
						id, n.Type, n.Inclusive, n.Exclusive, w[0], w[1])
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
