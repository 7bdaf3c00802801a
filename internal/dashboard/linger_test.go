package dashboard

import (
	"bufio"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/htmlreport"
	"github.com/surgeload/surge/internal/report"
)

// attachedSummary is a finished run's summary with what the runner
// attaches for --profile-pid and --pg (a flame graph carries a script).
func attachedSummary(f *fixture, end time.Time) *report.Summary {
	sum := report.Build(f.reg, &engine.Result{Start: f.t0, End: end}, nil)
	sum.Attachments = []report.Attachment{
		{Title: "PROFILES", Text: "at 5 users, 38% of CPU is in main.work\nsaved .surge/profiles/cpu-1-stage-1.pb.gz\n",
			HTML: template.HTML(`<section class="surge-profiles"><p>at 5 users</p><div id="prof-stage-1"></div><script>window.flame = 1;</script></section>`)},
		{Title: "SQL DURING THE TEST", Text: "top SQL", HTML: template.HTML(`<section class="surge-pg surge-pg-top"><table><tr><td>SELECT 1</td></tr></table></section>`)},
		{Title: "PLAN OF THE SLOWEST READ-ONLY STATEMENT", Text: "not explained: <syntax error>\nSELECT $1"},
	}
	return sum
}

func TestAttachmentsGoToProfilesAndSQLTabs(t *testing.T) {
	f := newFixture(0)
	s, err := Start(Options{Addr: "127.0.0.1:0", Registry: f.reg, Control: engine.NewControl(), Linger: KeepUntilClosed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := base(s)
	for range 5 {
		f.request("default", "home", 3, false)
	}
	s.Tick(f.tick(1, 1))
	resp, err := http.Get(b + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ev := sse{bufio.NewReader(resp.Body)}
	if name, data := ev.next(t); name != "init" || !strings.Contains(data, `"attachments":[]`) {
		t.Fatalf("init %q %s, want an empty attachment list", name, data)
	}
	// A stage's profile shown while the run goes.
	s.Attach(report.Attachment{Title: "PROFILE: stage 1", Text: "stage 1: 12 samples"})
	name, data := ev.next(t)
	var live []AttachmentInfo
	if err := json.Unmarshal([]byte(data), &live); err != nil || name != "attachments" || len(live) != 1 || live[0].Kind != "profiles" || live[0].HTML {
		t.Fatalf("live event %q %s (%v), want one text-only profile", name, data, err)
	}
	s.Finish(attachedSummary(f, f.t0.Add(time.Second)))
	name, data = ev.next(t)
	var fin struct{ Attachments []AttachmentInfo }
	if err := json.Unmarshal([]byte(data), &fin); err != nil || name != "finished" {
		t.Fatalf("last event %q: %v", name, err)
	}
	var kinds []string
	for _, a := range fin.Attachments {
		kinds = append(kinds, a.Kind)
	}
	if got := strings.Join(kinds, ","); got != "profiles,sql,sql" {
		t.Fatalf("kinds of the summary's attachments = %q, want profiles,sql,sql (the live one replaced)", got)
	}
	for _, tc := range []struct {
		path string
		code int
		want []string
	}{
		{"/api/attachments/0", 200, []string{"<!doctype html>", `<div id="prof-stage-1">`, "<script>window.flame = 1;</script>", "<title>PROFILES</title>"}},
		{"/api/attachments/1", 200, []string{`<section class="surge-pg surge-pg-top">`, "SELECT 1"}},
		{"/api/attachments/2", 200, []string{"<pre>not explained: &lt;syntax error&gt;\nSELECT $1</pre>"}},
		{"/api/attachments/3", 404, []string{"no attachment \"3\""}},
		{"/api/attachments/x", 404, []string{"no attachment \"x\""}},
	} {
		code, body := do(t, http.MethodGet, b+tc.path, nil, "")
		if code != tc.code {
			t.Errorf("GET %s = %d, want %d", tc.path, code, tc.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q:\n%s", tc.path, w, body)
			}
		}
	}
}

func TestLingerKeepsTheFinishedRun(t *testing.T) {
	f := newFixture(0)
	s, err := Start(Options{Addr: "127.0.0.1:0", Registry: f.reg, Control: engine.NewControl(), Linger: KeepUntilClosed,
		Report: func(w io.Writer, sum *report.Summary) error {
			return htmlreport.Write(w, sum, f.reg, htmlreport.Options{})
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := base(s)
	for range 8 {
		f.request("default", "home", 3, false)
	}
	s.Tick(f.tick(1, 2))
	if code, body := do(t, http.MethodGet, b+"/api/report.html", nil, ""); code != http.StatusConflict || !strings.Contains(body, "ready when the run has finished") {
		t.Errorf("report before the end = %d %q, want 409 saying when", code, body)
	}
	// A page stays connected: with Linger, Finish does not wait for it.
	resp, err := http.Get(b + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	s.Finish(attachedSummary(f, f.t0.Add(time.Second)))
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("Finish with Linger took %s, want it to return at once", took)
	}
	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"GET", "/", 200, `<script src="assets/app.js">`},
		{"GET", "/api/stats.csv", 200, "GET,home,8,0,"},
		{"GET", "/api/failures.csv", 200, "Kind,Where,Error,Occurrences"},
		{"GET", "/api/stats.json", 200, `"status":"finished"`},
		{"GET", "/api/state", 200, `"status":"finished"`},
		{"GET", "/api/report.html", 200, "<html"},
		{"POST", "/api/stop", 409, "the run has finished"},
		{"POST", "/api/users", 409, "the run has finished"},
		{"POST", "/api/reset", 409, "the run has finished"},
	} {
		body := ""
		if tc.path == "/api/users" {
			body = "users=3"
		}
		code, got := do(t, tc.method, b+tc.path, nil, body)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s after Finish = %d %.200q, want %d containing %q", tc.method, tc.path, code, got, tc.code, tc.want)
		}
	}
	// A page opened now gets the final state and its stream ends.
	code, events := do(t, http.MethodGet, b+"/api/events", nil, "")
	if code != 200 || !strings.HasPrefix(events, "event: init\n") || !strings.Contains(events, `"final":{`) {
		t.Errorf("events after Finish = %d %.300q, want the init event with the final result", code, events)
	}
	select {
	case <-s.Done():
		t.Fatal("the server stopped while lingering")
	default:
	}
	s.Close()
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed by Close")
	}
	if _, err := http.Get(b + "/"); err == nil {
		t.Error("the server still answers after Close")
	}
}

func TestLingerForADuration(t *testing.T) {
	f := newFixture(0)
	s, err := Start(Options{Addr: "127.0.0.1:0", Registry: f.reg, Linger: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Tick(f.tick(1, 0))
	s.Finish(nil)
	if code, body := do(t, http.MethodGet, base(s)+"/api/report.html", nil, ""); code != http.StatusNotFound || !strings.Contains(body, "--report FILE.html") {
		t.Errorf("report without a renderer = %d %q, want 404 naming --report", code, body)
	}
	select {
	case <-s.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the server did not stop after its 300ms linger")
	}
}
