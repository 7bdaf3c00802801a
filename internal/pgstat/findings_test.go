package pgstat

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFixtureFindings(t *testing.T) {
	cases := map[string][]string{ // fixture → "kind#node" expected among the findings
		"parallel": {"time#5"},
		"nestloop": {"misestimate#3", "heap-fetches#3", "misestimate#2"},
		"cte":      {"spill#2", "time#2"},
		"initplan": {"filter#1", "filter#3", "time#1"},
		"spill":    {"spill#2", "spill#5"},
		"trigger":  {"trigger#0"},
	}
	for name, want := range cases {
		p := loadFixture(t, name)
		var got []string
		for _, f := range p.Findings {
			got = append(got, f.Kind+"#"+itoa(f.Node))
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: finding %s missing; got %v", name, w, got)
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestFixtureTimesAddUp checks the self-time rules on real plans: every
// millisecond of the root's inclusive time belongs to exactly one node, so
// the exclusive times add up to it (CTEs and InitPlans are counted once).
func TestFixtureTimesAddUp(t *testing.T) {
	for _, name := range fixtures {
		p := loadFixture(t, name)
		var sum float64
		for _, n := range p.Nodes {
			sum += n.Exclusive
		}
		// Rounding of per-loop times in the server's output and clamping
		// leave a small difference.
		if diff := math.Abs(sum - p.Root.Inclusive); diff > 0.02*p.Root.Inclusive+0.05 {
			t.Errorf("%s: exclusive times sum to %.3f ms, root inclusive is %.3f ms", name, sum, p.Root.Inclusive)
		}
	}
}

func TestParallelFixtureDividesByProcesses(t *testing.T) {
	p := loadFixture(t, "parallel")
	scan := p.Nodes[4]
	if scan.Type != "Seq Scan" || scan.Procs != 3 || scan.Loops != 3 {
		t.Fatalf("node 5 = %s procs %v loops %v, want a Seq Scan with 3 processes", scan.Type, scan.Procs, scan.Loops)
	}
	if !near(scan.Inclusive, scan.ActualTotal) {
		t.Errorf("parallel scan inclusive %.3f, want per-process time %.3f", scan.Inclusive, scan.ActualTotal)
	}
	if p.JIT == nil || p.JIT.Functions == 0 || p.JIT.Total <= 0 {
		t.Errorf("JIT summary missing: %+v", p.JIT)
	}
}

func TestParseInputs(t *testing.T) {
	plan, err := os.ReadFile(filepath.Join("testdata", "initplan.json"))
	if err != nil {
		t.Fatal(err)
	}
	// As psql prints it without -A: header, rule, "+" continuations, count.
	var pasted strings.Builder
	pasted.WriteString("      QUERY PLAN\n----------------\n")
	for _, line := range strings.Split(strings.TrimSpace(string(plan)), "\n") {
		pasted.WriteString(" " + line + "+\n")
	}
	pasted.WriteString("(1 row)\n")
	cases := []struct {
		name, in string
		nodes    int
		err      bool
	}{
		{"server array", string(plan), 3, false},
		{"bare object", strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(string(plan)), "["), "]"), 3, false},
		{"psql paste", pasted.String(), 3, false},
		{"text format", "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)", 0, true},
		{"empty", "  \n", 0, true},
		{"no Plan key", `[{"Execution Time": 1}]`, 0, true},
		{"broken JSON", `[{"Plan": {`, 0, true},
	}
	for _, c := range cases {
		p, err := Parse([]byte(c.in))
		if c.err {
			if !errors.Is(err, ErrNotJSONPlan) {
				t.Errorf("%s: err = %v, want ErrNotJSONPlan", c.name, err)
			}
			continue
		}
		if err != nil || len(p.Nodes) != c.nodes {
			t.Errorf("%s: %v, %d nodes", c.name, err, len(p.Nodes))
		}
	}
}

func TestLabels(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"Node Type":"Aggregate","Strategy":"Hashed","Partial Mode":"Partial"}`, "Partial HashAggregate"},
		{`{"Node Type":"Hash Join","Join Type":"Left"}`, "Hash Left Join"},
		{`{"Node Type":"Nested Loop","Join Type":"Anti"}`, "Nested Loop Anti Join"},
		{`{"Node Type":"Seq Scan","Parallel Aware":true,"Relation Name":"t","Alias":"x"}`, "Parallel Seq Scan on t x"},
		{`{"Node Type":"Index Only Scan","Index Name":"i","Relation Name":"t","Alias":"t"}`, "Index Only Scan using i on t"},
		{`{"Node Type":"ModifyTable","Operation":"Update","Relation Name":"t","Alias":"t"}`, "Update on t"},
		{`{"Node Type":"CTE Scan","CTE Name":"big","Alias":"b"}`, "CTE Scan on big b"},
	}
	for _, c := range cases {
		p, err := Parse([]byte(`{"Plan":` + c.raw + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Root.Label(); got != c.want {
			t.Errorf("label %q, want %q", got, c.want)
		}
	}
}
