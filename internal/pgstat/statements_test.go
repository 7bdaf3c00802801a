package pgstat

import (
	"bytes"
	"math"
	"testing"
	"time"
)

// stat is what pg_stat_statements would hold after the given call times.
func stat(id int64, query string, times ...float64) QueryStat {
	var sum, sq float64
	for _, x := range times {
		sum += x
		sq += x * x
	}
	n := float64(len(times))
	mean := sum / n
	return QueryStat{QueryID: id, TopLevel: true, Query: query, Calls: int64(len(times)), TotalMs: sum, MeanMs: mean,
		StddevMs: math.Sqrt(sq/n - mean*mean), Rows: int64(len(times)) * 10,
		SharedHit: 90 * int64(len(times)), SharedRead: 10 * int64(len(times))}
}

func TestDiffWindow(t *testing.T) {
	before := &Snapshot{Stats: []QueryStat{
		stat(1, "SELECT a", 1, 2, 3),
		stat(2, "SELECT idle", 5),
		stat(3, "SELECT reset", 1, 1, 1, 1),
	}}
	nested := stat(5, "SELECT inside_a_function", 1)
	nested.TopLevel = false
	after := &Snapshot{Stats: []QueryStat{
		stat(1, "SELECT a", 1, 2, 3, 10, 20),
		stat(2, "SELECT idle", 5),
		stat(3, "SELECT reset", 7), // counters went down: reset in between
		stat(4, "SELECT new", 4, 6),
		nested,
	}}
	got := Diff(before, after)
	if len(got) != 4 || got[3].QueryID != 5 || !near(got[3].Share, 1.0/47) {
		t.Fatalf("nested statement: %+v", got)
	}
	got = got[:3]
	if len(got) != 3 {
		t.Fatalf("%d statements, want 3 (the idle one dropped): %+v", len(got), got)
	}
	want := []struct {
		id                  int64
		calls               int64
		total, mean, stddev float64
	}{
		{1, 2, 30, 15, 5}, // exactly the window's calls 10 and 20
		{4, 2, 10, 5, 1},
		{3, 1, 7, 7, 0},
	}
	all := 30.0 + 10 + 7
	for i, w := range want {
		g := got[i]
		if g.QueryID != w.id || g.Calls != w.calls || !near(g.TotalMs, w.total) ||
			!near(g.MeanMs, w.mean) || math.Abs(g.StddevMs-w.stddev) > 1e-6 || !near(g.Share, w.total/all) {
			t.Errorf("row %d = id %d calls %d total %v mean %v stddev %v share %v, want %+v",
				i, g.QueryID, g.Calls, g.TotalMs, g.MeanMs, g.StddevMs, g.Share, w)
		}
	}
	if got[0].Rows != 20 || got[0].SharedRead != 20 || got[0].HitRatio() != 0.9 {
		t.Errorf("window rows %d read %d hit %.2f", got[0].Rows, got[0].SharedRead, got[0].HitRatio())
	}
}

func TestSortOrderings(t *testing.T) {
	stats := []QueryStat{
		{QueryID: 1, TotalMs: 100, MeanMs: 1, Calls: 100, Rows: 5, SharedRead: 1},
		{QueryID: 2, TotalMs: 50, MeanMs: 50, Calls: 1, Rows: 500, TempWritten: 90},
		{QueryID: 3, TotalMs: 70, MeanMs: 7, Calls: 10, Rows: 50, SharedRead: 200},
	}
	cases := map[string][]int64{
		"total": {1, 3, 2}, "mean": {2, 3, 1}, "calls": {1, 3, 2}, "rows": {2, 3, 1}, "io": {3, 2, 1},
	}
	for by, want := range cases {
		if err := Sort(stats, by); err != nil {
			t.Fatal(err)
		}
		for i, id := range want {
			if stats[i].QueryID != id {
				t.Errorf("by %s: position %d is %d, want %d", by, i, stats[i].QueryID, id)
			}
		}
	}
	if err := Sort(stats, "speed"); err == nil {
		t.Error("unknown ordering accepted")
	}
}

func TestGoldenTop(t *testing.T) {
	after := &Snapshot{Stats: []QueryStat{
		stat(1, "SELECT * FROM orders\n  WHERE customer_id = $1", 1.5, 2.5, 3, 2, 1),
		stat(2, "UPDATE customers SET tier = $1 WHERE id = $2", 40, 60),
		stat(3, "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = $1 AND o.created > $2", 250),
	}}
	after.Stats[2].TempWritten = 420
	stats := Diff(nil, after)
	opt := TopOptions{Limit: 2, Window: time.Minute, QueryWidth: 60}
	var text, html bytes.Buffer
	if err := WriteTopText(&text, stats, opt); err != nil {
		t.Fatal(err)
	}
	golden(t, "top.txt", text.Bytes())
	if err := WriteTopHTML(&html, stats, opt); err != nil {
		t.Fatal(err)
	}
	golden(t, "top.html", html.Bytes())
	var empty bytes.Buffer
	WriteTopText(&empty, nil, TopOptions{})
	if !bytes.Contains(empty.Bytes(), []byte("no statements ran")) {
		t.Errorf("empty window: %q", empty.String())
	}
}

func TestIsReadOnly(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1":                             true,
		"  -- note\n/* c */ select * from t":   true,
		"WITH x AS (SELECT 1) SELECT * FROM x": true,
		"VALUES (1)":                           true,
		"TABLE t":                              true,
		"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d": false,
		"SELECT * INTO t2 FROM t":                               false,
		"SELECT * FROM t FOR UPDATE":                            false,
		"SELECT nextval('s')":                                   false,
		"UPDATE t SET v = 1":                                    false,
		"insert into t values (1)":                              false,
		"CALL p()":                                              false,
		"":                                                      false,
	}
	for sql, want := range cases {
		if got := IsReadOnly(sql); got != want {
			t.Errorf("IsReadOnly(%q) = %v, want %v", sql, got, want)
		}
	}
}

func TestSlowestReadOnly(t *testing.T) {
	stats := []QueryStat{
		{QueryID: 1, Query: "UPDATE t SET v = $1", MeanMs: 90},
		{QueryID: 2, Query: "SELECT * FROM t WHERE id = $1", MeanMs: 5},
		{QueryID: 3, Query: "/* report */ SELECT count(*) FROM t", MeanMs: 40},
	}
	if q, ok := SlowestReadOnly(stats); !ok || q.QueryID != 3 {
		t.Errorf("picked %+v, want statement 3", q)
	}
	if _, ok := SlowestReadOnly(stats[:1]); ok {
		t.Error("picked a write")
	}
}

func TestExplainable(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1": true, "(SELECT 1) UNION (SELECT 2)": true, "insert into t values (1)": true,
		"EXECUTE p(1)": true, "CREATE TABLE x AS SELECT 1": true, "create unlogged table x as table t": true,
		"CREATE MATERIALIZED VIEW m AS SELECT 1": true, "/* c */ MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE": true,
		"CREATE TABLE x (a int)": false, "VACUUM t": false, "COPY t TO STDOUT": false, "DROP TABLE t": false,
	}
	for sql, ok := range cases {
		if err := explainable(sql); (err == nil) != ok {
			t.Errorf("explainable(%q) = %v, want ok=%v", sql, err, ok)
		}
	}
}
