package output

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
			all := readCSV(t, prefix+"_stats_history.csv")
			hist := all[1:]
			if len(hist) != len(tc.rows) {
				t.Fatalf("%d history rows, want %d:\n%q", len(hist), len(tc.rows), hist)
			}
			ts, rps, total := col(t, all[0], "Timestamp"), col(t, all[0], "Requests/s"), col(t, all[0], "Total Request Count")
			for i, want := range tc.rows {
				if got := [3]string{hist[i][ts], hist[i][rps], hist[i][total]}; got != want {
					t.Errorf("history row %d: Timestamp, Requests/s, Total Request Count = %q, want %q", i, got, want)
				}
			}
			stats := readCSV(t, prefix+"_stats.csv")
			agg := stats[len(stats)-1]
			if agg[col(t, stats[0], "Name")] != "Aggregated" || agg[col(t, stats[0], "Request Count")] != tc.total {
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

// col is the index of the column named name in header.
func col(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %q", name, header)
	return -1
}

// Locust's headers, from locust/stats.py (2.12.1: StatsCSV.requests_csv_columns
// and StatsCSVFileWriter.stats_history_csv_columns, with
// PERCENTILES_TO_REPORT), written here independently of csv.go.
const (
	locustStatsHeader   = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
	locustHistoryHeader = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size"
)

var locustPercentileColumns = []string{"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"}

// orderedPercentiles checks that row's percentile columns are numbers (or,
// where allowed, Locust's N/A) that never decrease, and returns them by
// column name.
func orderedPercentiles(t *testing.T, what string, header, row []string, naOK map[string]bool) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	prev, prevName := -1.0, ""
	for _, name := range locustPercentileColumns {
		v := row[col(t, header, name)]
		if v == "N/A" && naOK[name] {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Errorf("%s: %s = %q, want a number", what, name, v)
			continue
		}
		if f < prev {
			t.Errorf("%s: %s = %v < %s = %v\n%q", what, name, f, prevName, prev, row)
		}
		prev, prevName = f, name
		out[name] = f
	}
	return out
}

// TestCSVLocustColumns: both files have exactly Locust's header, and the
// rows of a run with spread-out response times have every percentile
// column, ordered from 50% to 100% (the max), and the average bytes
// received per request as the content size. A history row has the
// percentiles a second keeps and Locust's N/A for the others.
func TestCSVLocustColumns(t *testing.T) {
	reg := metrics.NewRegistry()
	start := time.Unix(1000, 0)
	reg.Start(start, 0)
	prefix := filepath.Join(t.TempDir(), "run")
	c, err := NewCSV(prefix)
	if err != nil {
		t.Fatal(err)
	}
	b := reg.Builtin
	type req struct {
		tags  *metrics.TagSet
		bytes float64 // received per request
		slow  float64 // durations are 1..1000 ms scaled by this
	}
	reqs := []req{
		{reg.Intern(metrics.Tag{Key: "method", Value: "GET"}, metrics.Tag{Key: "name", Value: "/a"}), 100, 1},
		{reg.Intern(metrics.Tag{Key: "method", Value: "POST"}, metrics.Tag{Key: "name", Value: "/b"}), 300, 3},
	}
	for sec := range 2 {
		reg.Set(b.VUs, nil, 4)
		for _, r := range reqs {
			sh := reg.Shard(1)
			for i := 1; i <= 1000; i++ {
				sh.Add(b.HTTPReqs, r.tags, 1)
				sh.Add(b.HTTPReqFailed, r.tags, 0)
				sh.Add(b.HTTPReqDuration, r.tags, float64(i)*r.slow)
				sh.Add(b.DataReceived, r.tags, r.bytes)
			}
		}
		now := start.Add(time.Duration(sec+1) * time.Second)
		reg.Tick(now)
		if err := c.Tick(reg, now); err != nil {
			t.Fatal(err)
		}
	}
	sum := report.Build(reg, &engine.Result{Start: start, End: start.Add(2 * time.Second)}, nil)
	if err := c.Close(sum); err != nil {
		t.Fatal(err)
	}

	stats := readCSV(t, prefix+"_stats.csv")
	if got := strings.Join(stats[0], ","); got != locustStatsHeader {
		t.Errorf("_stats.csv header\n%s\nwant Locust's\n%s", got, locustStatsHeader)
	}
	if len(stats) != 4 {
		t.Fatalf("_stats.csv has %d rows, want a header, /a, /b and Aggregated:\n%q", len(stats), stats)
	}
	h := stats[0]
	for i, want := range []struct {
		name       string
		max, bytes float64
	}{{"/a", 1000, 100}, {"/b", 3000, 300}, {"Aggregated", 3000, 200}} {
		row := stats[i+1]
		if len(row) != len(h) {
			t.Fatalf("_stats.csv row %q has %d columns, want %d", row, len(row), len(h))
		}
		if row[col(t, h, "Name")] != want.name {
			t.Errorf("_stats.csv row %d is %q, want %s", i+1, row, want.name)
		}
		p := orderedPercentiles(t, "_stats.csv "+want.name, h, row, nil)
		if p["100%"] != want.max || row[col(t, h, "Max Response Time")] != f0(want.max) {
			t.Errorf("_stats.csv %s: 100%% %v, Max Response Time %s, want %v", want.name, p["100%"], row[col(t, h, "Max Response Time")], want.max)
		}
		if p["50%"] == p["100%"] || p["99.99%"] < p["99%"] {
			t.Errorf("_stats.csv %s: percentiles not spread out: %v", want.name, p)
		}
		if got := row[col(t, h, "Median Response Time")]; got != row[col(t, h, "50%")] {
			t.Errorf("_stats.csv %s: Median Response Time %s, 50%% %s", want.name, got, row[col(t, h, "50%")])
		}
		if got := row[col(t, h, "Average Content Size")]; got != f2(want.bytes) {
			t.Errorf("_stats.csv %s: Average Content Size %s, want %s", want.name, got, f2(want.bytes))
		}
	}

	hist := readCSV(t, prefix+"_stats_history.csv")
	if got := strings.Join(hist[0], ","); got != locustHistoryHeader {
		t.Errorf("_stats_history.csv header\n%s\nwant Locust's\n%s", got, locustHistoryHeader)
	}
	if len(hist) != 3 {
		t.Fatalf("_stats_history.csv has %d rows, want a header and 2 seconds:\n%q", len(hist), hist)
	}
	h = hist[0]
	unknown := map[string]bool{"66%": true, "75%": true, "80%": true, "98%": true, "99.9%": true, "99.99%": true}
	for _, row := range hist[1:] {
		if len(row) != len(h) {
			t.Fatalf("_stats_history.csv row %q has %d columns, want %d", row, len(row), len(h))
		}
		p := orderedPercentiles(t, "_stats_history.csv", h, row, unknown)
		for name := range unknown {
			if v := row[col(t, h, name)]; v != "N/A" {
				t.Errorf("_stats_history.csv %s = %s, want N/A (not kept per second)", name, v)
			}
		}
		if p["100%"] != 3000 {
			t.Errorf("_stats_history.csv 100%% = %v, want the second's max 3000", p["100%"])
		}
		if got := row[col(t, h, "Total Average Content Size")]; got != "200.00" {
			t.Errorf("_stats_history.csv Total Average Content Size %s, want 200.00", got)
		}
	}
	if hist[2][col(t, h, "Total Request Count")] != "4000" {
		t.Errorf("_stats_history.csv last Total Request Count %s, want 4000", hist[2][col(t, h, "Total Request Count")])
	}
}
