package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// warmupScript's setup() makes 1 request, runs one passing and one failing
// check and adds 2 to a custom counter. Its one iteration makes 1 request
// at once, inside a 1s warm-up (folded by the first tick, due at 1s), and
// 2 after 2.1s, which no 1s warm-up can hold: a tick folds what came since
// the previous one, and that interval's middle is then past 1s. teardown()
// makes 5.
const warmupScript = `import http from "k6/http";
import { check, sleep } from "k6";
import { Counter } from "k6/metrics";
const setUp = new Counter("set_up");
export const options = {
  scenarios: { s: { executor: "per-vu-iterations", vus: 1, iterations: 1 } },
};
export function setup() {
  const r = http.get(__ENV.BASE + "/setup");
  check(r, { "setup got 200": (r) => r.status === 200, "setup got 404": (r) => r.status === 404 });
  setUp.add(2);
}
export default function () {
  http.get(__ENV.BASE + "/work");
  sleep(2.1);
  http.get(__ENV.BASE + "/work");
  http.get(__ENV.BASE + "/work");
}
export function teardown() {
  for (let i = 0; i < 5; i++) { http.get(__ENV.BASE + "/teardown"); }
}
`

// TestWarmupCountsSetup: setup() runs before the load, so --warmup, which
// keeps the load's first part out, leaves its request, checks and custom
// metric in the results, as without --warmup; only the load's first
// request is left out. setup()'s samples are tagged as teardown()'s.
func TestWarmupCountsSetup(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		// 1 in setup, 3 in the load, 5 in teardown; with the warm-up, the
		// load's first request is left out when the first tick fires
		// within the warm-up's second, which a busy machine may delay
		minReqs, maxReqs float64
		iterations       float64
		note             string
	}{
		{"no warm-up", nil, 1 + 3 + 5, 1 + 3 + 5, 1, ""},
		{"--warmup 1s", []string{"--warmup", "1s"}, 1 + 2 + 5, 1 + 3 + 5, 1, "the first 1s are excluded"},
		// the load (2.1s) ends inside the warm-up: only setup's and
		// teardown's requests are counted, and the summary says why
		{"--warmup longer than the load", []string{"--warmup", "1m"}, 1 + 5, 1 + 5, 0, "ended before the warm-up (1m0s) did"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hits := pathCounter(t)
			path := writeTestScript(t, "warmup.js", warmupScript)
			export := filepath.Join(t.TempDir(), "summary.json")
			ndjson := filepath.Join(t.TempDir(), "out.ndjson")
			t.Setenv("BASE", srv.URL)
			args := append([]string{"run", "--no-save", "--summary-export", export, "--out", "json=" + ndjson}, tc.args...)
			code, stdout, stderr := runCLI(t, context.Background(), append(args, path)...)
			if code != ExitOK {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitOK, stdout, stderr)
			}
			wantHits(t, hits, map[string]int64{"/setup": 1, "/work": 3, "/teardown": 5})
			sum := readSummary(t, export)
			if got := sum.value("http_reqs", "count"); got < tc.minReqs || got > tc.maxReqs {
				t.Errorf("summary export http_reqs count = %v, want %v to %v (setup's and teardown's requests counted)", got, tc.minReqs, tc.maxReqs)
			}
			sum.want(t, "summary export", []metricWant{
				{"set_up", "count", 2},
				{"checks", "passes", 1},
				{"checks", "fails", 1},
			}...)
			if got := sum.value("iterations", "count"); got != tc.iterations {
				t.Errorf("summary export iterations count = %v, want %v", got, tc.iterations)
			}
			if !strings.Contains(stdout, tc.note) {
				t.Errorf("summary lacks the note %q:\n%s", tc.note, stdout)
			}
			reqs := httpReqsByPath(t, ndjson) // every point, the warm-up's included
			for p, want := range map[string]string{"/setup": "1 scenario= group=::setup", "/work": "3 scenario=s group=", "/teardown": "5 scenario= group=::teardown"} {
				if got := reqs[p]; got != want {
					t.Errorf("--out json: http_reqs to %s: %q, want %q", p, got, want)
				}
			}
		})
	}
}

// TestClusterWarmupCountsSetup: setup() runs on the master before the
// workers start; with --warmup its checks and custom metric are in the
// merged results, as in a local run.
func TestClusterWarmupCountsSetup(t *testing.T) {
	srv, hits := pathCounter(t)
	path := writeTestScript(t, "warmup.js", warmupScript)
	export := filepath.Join(t.TempDir(), "summary.json")
	t.Setenv("BASE", srv.URL)
	m, ws, _ := startCluster(t, 1, path, "--warmup", "1s", "--summary-export", export)
	if code := m.wait(t, 60*time.Second); code != ExitOK {
		t.Errorf("master exit code %d, want %d", code, ExitOK)
	}
	for _, w := range ws {
		w.wait(t, 10*time.Second)
	}
	if n := hits["/setup"].Load(); n != 1 {
		t.Errorf("server saw %d requests to /setup, want 1", n)
	}
	sum := readSummary(t, export)
	sum.want(t, "merged summary export", []metricWant{
		{"set_up", "count", 2},
		{"checks", "passes", 1},
		{"checks", "fails", 1},
	}...)
}

// csvScript makes 1 request in setup(), 2×3 in iterations spread over more
// than two seconds, and 5 in teardown().
const csvScript = `import http from "k6/http";
import { sleep } from "k6";
export const options = {
  scenarios: { s: { executor: "per-vu-iterations", vus: 2, iterations: 3 } },
};
export function setup() { http.get(__ENV.BASE + "/setup"); }
export default function () { http.get(__ENV.BASE + "/work"); sleep(0.8); }
export function teardown() {
  for (let i = 0; i < 5; i++) { http.get(__ENV.BASE + "/teardown"); }
}
`

// TestCSVHistoryEndsWithTheTotal: --out csv's history has the run's last
// (partial) second and teardown()'s requests, so its last running total is
// the Aggregated count of _stats.csv, which is every request made.
func TestCSVHistoryEndsWithTheTotal(t *testing.T) {
	srv, _ := pathCounter(t)
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"quick, under a second", []string{"--url", srv.URL + "/work", "-u", "2", "-i", "20"}, 20},
		{"script with setup and teardown, over two seconds", []string{writeTestScript(t, "csv.js", csvScript)}, 1 + 6 + 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "run")
			t.Setenv("BASE", srv.URL)
			args := append([]string{"run", "--no-save", "--out", "csv=" + prefix}, tc.args...)
			code, stdout, stderr := runCLI(t, context.Background(), args...)
			if code != ExitOK {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitOK, stdout, stderr)
			}
			want := strconv.Itoa(tc.want)
			stats := readCSV(t, prefix+"_stats.csv")
			agg := stats[len(stats)-1]
			if agg[csvCol(t, stats[0], "Name")] != "Aggregated" || agg[csvCol(t, stats[0], "Request Count")] != want {
				t.Errorf("_stats.csv last row %q, want Aggregated with %s requests", agg, want)
			}
			// every row's percentiles, 50% to 100%, are numbers in order
			for _, row := range stats[1:] {
				prev := -1.0
				for _, p := range []string{"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"} {
					v, err := strconv.ParseFloat(row[csvCol(t, stats[0], p)], 64)
					if err != nil || v < prev {
						t.Errorf("_stats.csv row %q: %s not a number at least the previous percentile (%v)", row, p, prev)
					}
					prev = v
				}
			}
			hist := readCSV(t, prefix+"_stats_history.csv")
			if len(hist) < 2 {
				t.Fatalf("_stats_history.csv has no rows:\n%q", hist)
			}
			total := csvCol(t, hist[0], "Total Request Count")
			if last := hist[len(hist)-1]; last[total] != want {
				t.Errorf("_stats_history.csv last Total Request Count %s, want %s (the _stats.csv total)\n%s", last[total], want, strings.Join(flat(hist), "\n"))
			}
		})
	}
}

// csvCol is the index of the column named name in a CSV header.
func csvCol(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %q", name, header)
	return -1
}

func flat(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, ",")
	}
	return out
}

// TestWarmupLongerThanScriptRefused: a script whose scenarios last a
// fixed 1s, with --warmup 5s, is refused before setup() runs: nothing of
// its load would be measured, and setup() must not do its work for a run
// that does not happen.
func TestWarmupLongerThanScriptRefused(t *testing.T) {
	srv, hits := pathCounter(t)
	path := writeTestScript(t, "short.js", `import http from "k6/http";
export const options = { vus: 1, duration: "1s" };
export function setup() { http.get(__ENV.BASE + "/setup"); }
export default function () { http.get(__ENV.BASE + "/work"); }`)
	t.Setenv("BASE", srv.URL)
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--no-save", "--warmup", "5s", path)
	if code != ExitUsage || !strings.Contains(stderr, "--warmup 5s is not shorter than the test (1s)") {
		t.Fatalf("exit %d, want %d with the reason\n%s\n%s", code, ExitUsage, stdout, stderr)
	}
	wantHits(t, hits, map[string]int64{"/setup": 0, "/work": 0})
}
