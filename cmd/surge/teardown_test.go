package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// teardownScript makes 1 request in setup(), 10 in iterations and 5 in
// teardown(), where it also runs one passing and one failing check and
// adds 3 to a custom counter.
const teardownScript = `import http from "k6/http";
import { check } from "k6";
import { Counter } from "k6/metrics";
const tornDown = new Counter("torn_down");
export const options = {
  scenarios: { s: { executor: "shared-iterations", vus: 2, iterations: 10 } },
  thresholds: %s,
};
export function setup() { http.get(__ENV.BASE + "/setup"); }
export default function () { http.get(__ENV.BASE + "/work"); }
export function teardown() {
  let r;
  for (let i = 0; i < 5; i++) { r = http.get(__ENV.BASE + "/teardown"); }
  check(r, { "teardown got 200": (r) => r.status === 200, "teardown got 404": (r) => r.status === 404 });
  tornDown.add(3);
}
`

// pathCounter serves 200 and counts requests by path.
func pathCounter(t *testing.T) (*httptest.Server, map[string]*atomic.Int64) {
	hits := map[string]*atomic.Int64{"/setup": {}, "/work": {}, "/teardown": {}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, ok := hits[r.URL.Path]; ok {
			n.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// TestTeardownCountsInResults: teardown()'s requests, checks and custom
// metrics are in the summary, the summary export and the thresholds, as
// setup()'s are (and as in k6): 1 + 10 + 5 requests.
func TestTeardownCountsInResults(t *testing.T) {
	srv, hits := pathCounter(t)
	ths := `{ http_reqs: ["count==16"], torn_down: ["count==3"], checks: ["rate==0.5"] }`
	path := writeTestScript(t, "teardown.js", strings.Replace(teardownScript, "%s", ths, 1))
	export := filepath.Join(t.TempDir(), "summary.json")
	ndjson := filepath.Join(t.TempDir(), "out.ndjson")
	t.Setenv("BASE", srv.URL)
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--no-save", "--summary-export", export, "--out", "json="+ndjson, path)
	if code != ExitOK {
		t.Errorf("exit %d, want %d (thresholds that hold only with teardown's samples)\n%s\n%s", code, ExitOK, stdout, stderr)
	}
	wantHits(t, hits, map[string]int64{"/setup": 1, "/work": 10, "/teardown": 5})
	sum := readSummary(t, export)
	sum.want(t, "summary export", []metricWant{
		{"http_reqs", "count", 16},
		{"http_req_failed", "fails", 16},
		{"torn_down", "count", 3},
		{"checks", "passes", 1},
		{"checks", "fails", 1},
		{"iterations", "count", 10},
	}...)
	for _, want := range []string{"teardown got 200", "teardown got 404", "torn_down"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text summary lacks %q:\n%s", want, stdout)
		}
	}
	reqs := httpReqsByPath(t, ndjson)
	for p, want := range map[string]string{"/setup": "1 scenario= group=::setup", "/work": "10 scenario=s group=", "/teardown": "5 scenario= group=::teardown"} {
		if got := reqs[p]; got != want {
			t.Errorf("--out json: http_reqs to %s: %q, want %q (teardown's tagged as setup's)", p, got, want)
		}
	}
}

// httpReqsByPath reads an --out json file and returns, per request path,
// the http_reqs count with the scenario and group tags of its lines.
func httpReqsByPath(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts, tags := map[string]int64{}, map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var l struct {
			Metric string
			Count  int64
			Tags   map[string]string
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("--out json line %q: %v", line, err)
		}
		if l.Metric != "http_reqs" {
			continue
		}
		p := l.Tags["name"][strings.LastIndex(l.Tags["name"], "/"):]
		counts[p] += l.Count
		tags[p] = "scenario=" + l.Tags["scenario"] + " group=" + l.Tags["group"]
	}
	out := map[string]string{}
	for p, n := range counts {
		out[p] = fmt.Sprint(n, " ", tags[p])
	}
	return out
}

// TestTeardownFailsThreshold: a threshold broken only by teardown()'s
// requests fails the run.
func TestTeardownFailsThreshold(t *testing.T) {
	srv, _ := pathCounter(t)
	path := writeTestScript(t, "teardown.js", strings.Replace(teardownScript, "%s", `{ http_reqs: ["count<12"] }`, 1))
	t.Setenv("BASE", srv.URL)
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--no-save", path)
	if code != ExitThresholdsFailed {
		t.Errorf("exit %d, want %d (16 requests break count<12)\n%s\n%s", code, ExitThresholdsFailed, stdout, stderr)
	}
}

// TestClusterTeardownCountsInResults: in a distributed run teardown()
// runs on the master after the last merge; its requests, checks and
// custom metrics are in the merged results and thresholds as in a local
// run.
func TestClusterTeardownCountsInResults(t *testing.T) {
	srv, hits := pathCounter(t)
	ths := `{ http_reqs: ["count==16"], torn_down: ["count==3"], checks: ["rate==0.5"] }`
	path := writeTestScript(t, "teardown.js", strings.Replace(teardownScript, "%s", ths, 1))
	export := filepath.Join(t.TempDir(), "summary.json")
	t.Setenv("BASE", srv.URL)
	m, ws, _ := startCluster(t, 2, path, "--summary-export", export)
	if code := m.wait(t, 60*time.Second); code != ExitOK {
		t.Errorf("master exit code %d, want %d (thresholds that hold only with teardown's samples)", code, ExitOK)
	}
	for _, w := range ws {
		w.wait(t, 10*time.Second)
	}
	wantHits(t, hits, map[string]int64{"/setup": 1, "/work": 10, "/teardown": 5})
	sum := readSummary(t, export)
	sum.want(t, "merged summary export", []metricWant{
		{"http_reqs", "count", 16},
		{"torn_down", "count", 3},
		{"checks", "passes", 1},
		{"checks", "fails", 1},
		{"iterations", "count", 10},
	}...)
}

// wantHits reports every path whose count of requests the server saw is
// not as wanted.
func wantHits(t *testing.T, hits map[string]*atomic.Int64, want map[string]int64) {
	t.Helper()
	for p, w := range want {
		if n := hits[p].Load(); n != w {
			t.Errorf("server saw %d requests to %s, want %d", n, p, w)
		}
	}
}

// metricWant is one value a k6 summary export must hold.
type metricWant struct {
	metric, key string
	want        float64
}

// want reports every value of the export that is not as wanted; what
// names the export in the messages.
func (s k6Summary) want(t *testing.T, what string, wants ...metricWant) {
	t.Helper()
	for _, w := range wants {
		if got := s.value(w.metric, w.key); got != w.want {
			t.Errorf("%s %s %s = %v, want %v", what, w.metric, w.key, got, w.want)
		}
	}
}

// TestSetupTeardownGroups: what setup() and teardown() do is tagged
// group "::setup" and "::teardown" (groups inside nest below), as in k6,
// so a threshold can single them out, and scenario:default holds only the
// load. A threshold that miscounts them fails the run (99).
func TestSetupTeardownGroups(t *testing.T) {
	srv := okServer(t)
	for _, tc := range []struct {
		name, setupCount string
		code             int
	}{{"counted", "1", 0}, {"miscounted", "2", 99}} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTestScript(t, "groups.js", `import http from "k6/http";
import { check, group } from "k6";
export const options = { vus: 1, iterations: 2, thresholds: {
  "http_reqs{group:::setup}": ["count==`+tc.setupCount+`"],
  "http_reqs{group:::setup::login}": ["count==1"],
  "checks{group:::setup::login}": ["rate==1"],
  "http_reqs{group:::teardown}": ["count==1"],
  "http_reqs{scenario:default}": ["count==2"],
  http_reqs: ["count==5"],
} };
export function setup() {
  group("login", () => { check(http.get(__ENV.BASE + "/login"), { ok: (r) => r.status === 200 }); });
  http.get(__ENV.BASE + "/prepare");
}
export default function () { http.get(__ENV.BASE + "/"); }
export function teardown() { http.get(__ENV.BASE + "/cleanup"); }`)
			t.Setenv("BASE", srv.URL)
			code, stdout, stderr := runCLI(t, context.Background(), "run", "--no-save", path)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
		})
	}
}
