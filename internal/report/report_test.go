package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is a run with known samples: two request names, a failing
// threshold, checks in a group, an exception and a dropped iteration.
func fixture(t *testing.T) *Summary {
	t.Helper()
	reg := metrics.NewRegistry()
	start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	reg.Start(start, 0)
	b := reg.Builtin
	tags := func(name, status, expected string) *metrics.TagSet {
		return reg.Intern(metrics.Tag{Key: "scenario", Value: "default"}, metrics.Tag{Key: "name", Value: name},
			metrics.Tag{Key: "method", Value: "GET"}, metrics.Tag{Key: "status", Value: status},
			metrics.Tag{Key: "expected_response", Value: expected})
	}
	sh := reg.Shard(0)
	for i := 0; i < 100; i++ {
		ok := tags("/api/items", "200", "true")
		sh.Add(b.HTTPReqs, ok, 1)
		sh.Add(b.HTTPReqFailed, ok, 0)
		sh.Add(b.HTTPReqDuration, ok, float64(1+i%10))
		sh.Add(b.DataReceived, ok, 512)
		sh.Add(b.Iterations, nil, 1)
	}
	for i := 0; i < 10; i++ {
		bad := tags("/api/flaky", "500", "false")
		sh.Add(b.HTTPReqs, bad, 1)
		sh.Add(b.HTTPReqFailed, bad, 1)
		sh.Add(b.HTTPReqDuration, bad, 50)
	}
	sh.Add(b.Checks, reg.Intern(metrics.Tag{Key: "check", Value: "status is 200"}), 1)
	sh.Add(b.Checks, reg.Intern(metrics.Tag{Key: "check", Value: "status is 200"}), 0)
	sh.Add(b.Checks, reg.Intern(metrics.Tag{Key: "check", Value: "logged in"}, metrics.Tag{Key: "group", Value: "::login"}), 1)
	sh.Add(b.VUs, nil, 5)
	sh.Add(b.VUsMax, nil, 5)
	reg.Errors.Add("exception", "TypeError: cannot read property 'id' of undefined", "script.js:12:7")
	reg.Tick(start.Add(10 * time.Second))
	th, _ := metrics.ParseThreshold("http_req_duration", "p(95)<20")
	th2, _ := metrics.ParseThreshold("http_req_failed", "rate<0.01")
	res := &engine.Result{Start: start, End: start.Add(10 * time.Second), Iterations: 100, Exceptions: 1, Dropped: 3,
		Thresholds: engine.Evaluate(reg, []*metrics.Threshold{th, th2}, 10*time.Second)}
	return Build(reg, res, nil)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

func TestTextSummaryGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := fixture(t).WriteText(&buf, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt", buf.Bytes())
}

func TestK6JSON(t *testing.T) {
	var buf bytes.Buffer
	s := fixture(t)
	if err := s.WriteK6JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if c := out.Metrics["http_reqs"]["count"]; c != 110.0 {
		t.Errorf("http_reqs count %v", c)
	}
	// k6 writes true for a FAILED threshold in --summary-export
	if th := out.Metrics["http_req_duration"]["thresholds"].(map[string]any); th["p(95)<20"] != true {
		t.Errorf("failed p(95) threshold exported as %v, want true (k6's meaning: failed)", th)
	}
	if f := out.Metrics["http_req_failed"]; f["passes"] != 10.0 || f["fails"] != 100.0 {
		t.Errorf("http_req_failed %v: want passes 10 (failed requests) and fails 100, as k6", f)
	}
	golden(t, "summary.json", buf.Bytes())
}

func TestNotesSayWhatMatters(t *testing.T) {
	s := fixture(t)
	want := map[string]bool{
		"3 iterations were due but never started: every VU was busy (raise --max-vus); they are counted in dropped_iterations": false,
		"1 of 100 iterations ended in an exception": false,
	}
	for _, n := range s.Notes {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	for n, seen := range want {
		if !seen {
			t.Errorf("missing note %q in %q", n, s.Notes)
		}
	}
}
