package output

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// TestCSVHistoryHasTheLastSecond: PREFIX_stats_history.csv has a row for
// every second with requests, the run's last (partial) second and what a
// tick after the load (teardown) recorded included, so that its last
// running total is the Aggregated count of PREFIX_stats.csv.
func TestCSVHistoryHasTheLastSecond(t *testing.T) {
	type tick struct {
		at   time.Duration // since the start
		reqs int           // requests recorded since the previous tick
		vus  float64       // the vus gauge set before the tick; 0: not set (teardown's tick)
	}
	for _, tc := range []struct {
		name  string
		ticks []tick
		rows  [][3]string // per history row: Timestamp (the end of its second), Requests/s, Total Request Count (up to that end)
		total string
	}{
		{"within one second", []tick{{400 * time.Millisecond, 5, 2}}, [][3]string{{"1001", "5.00", "5"}}, "5"},
		{"over seconds, then teardown", []tick{
			{time.Second, 3, 2},
			{2 * time.Second, 2, 2},
			{2400 * time.Millisecond, 4, 2}, // the engine's last tick
			{2500 * time.Millisecond, 1, 0}, // teardown's
		}, [][3]string{{"1002", "3.00", "3"}, {"1003", "7.00", "10"}}, "10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := metrics.NewRegistry()
			start := time.Unix(1000, 0)
			reg.Start(start, 0)
			prefix := filepath.Join(t.TempDir(), "run")
			c, err := NewCSV(prefix)
			if err != nil {
				t.Fatal(err)
			}
			b := reg.Builtin
			tags := reg.Intern(metrics.Tag{Key: "method", Value: "GET"}, metrics.Tag{Key: "name", Value: "/a"})
			var end time.Time
			for _, tk := range tc.ticks {
				for range tk.reqs {
					sh := reg.Shard(1)
					sh.Add(b.HTTPReqs, tags, 1)
					sh.Add(b.HTTPReqFailed, tags, 0)
					sh.Add(b.HTTPReqDuration, tags, 10)
				}
				if tk.vus > 0 {
					reg.Set(b.VUs, nil, tk.vus)
					end = start.Add(tk.at)
				}
				now := start.Add(tk.at)
				reg.Tick(now)
				if err := c.Tick(reg, now); err != nil {
					t.Fatal(err)
				}
			}
			sum := report.Build(reg, &engine.Result{Start: start, End: end}, nil)
			if err := c.Close(sum); err != nil {
				t.Fatal(err)
			}
			hist := readCSV(t, prefix+"_stats_history.csv")[1:]
			if len(hist) != len(tc.rows) {
				t.Fatalf("%d history rows, want %d:\n%q", len(hist), len(tc.rows), hist)
			}
			for i, want := range tc.rows {
				if got := [3]string{hist[i][0], hist[i][4], hist[i][10]}; got != want {
					t.Errorf("history row %d: Timestamp, Requests/s, Total Request Count = %q, want %q", i, got, want)
				}
			}
			stats := readCSV(t, prefix+"_stats.csv")
			agg := stats[len(stats)-1]
			if agg[1] != "Aggregated" || agg[2] != tc.total {
				t.Errorf("_stats.csv last row %q, want Aggregated with %s requests", agg, tc.total)
			}
		})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
