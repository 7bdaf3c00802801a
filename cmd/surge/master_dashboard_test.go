package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgeload/surge/internal/dashboard"
)

// mdashDuration is the length of the distributed runs below: the
// dashboard's Stop must end them long before.
const mdashDuration = 30 * time.Second

// mdashScript makes 60 requests/s to TARGET for mdashDuration, and its
// handleSummary() writes the merged request count and duration to OUT.
const mdashScript = `import http from "k6/http";
export const options = { scenarios: { load: { executor: "constant-arrival-rate", rate: 60, timeUnit: "1s", duration: "30s", preAllocatedVUs: 4 } } };
export default function () { http.get("TARGET"); }
export function handleSummary(data) {
  return { stdout: "handled\n", "OUT": JSON.stringify({ reqs: data.metrics.http_reqs.values.count, ms: data.state.testRunDurationMs }) };
}
`

type mdashCluster struct {
	master  *cdashRun
	workers []*cdashRun
	addr    string    // the dashboard's
	start   time.Time // of the master
}

// mdashStart runs surge master --dashboard with two workers, all in this
// process, the test given by args (at 60 requests/s to a local target
// for mdashDuration), and waits until the dashboard lists both workers
// running with a nonzero request rate.
func mdashStart(t *testing.T, args ...string) *mdashCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*mdashDuration)
	t.Cleanup(cancel)
	c := &mdashCluster{addr: dashFreeAddr(t), start: time.Now()}
	c.master = cdashMain(t, ctx, append([]string{"master", "--listen", "127.0.0.1:0", "--token", "tok", "--expect-workers", "2",
		"--quiet", "--no-save", "--dashboard=" + c.addr}, args...)...)
	var listen string
	for deadline := time.Now().Add(20 * time.Second); listen == ""; time.Sleep(20 * time.Millisecond) {
		if m := cdashListen.FindStringSubmatch(c.master.err.String()); m != nil {
			listen = m[1]
		}
		select {
		case <-c.master.done:
			t.Fatalf("the master exited with %d:\n%s", c.master.code, c.master.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master did not listen for workers:\n%s", c.master.err)
		}
	}
	for i := range 2 {
		c.workers = append(c.workers, cdashMain(t, ctx, "worker", "--master", listen, "--token", "tok", "--name", fmt.Sprint("w", i)))
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, ok := cdashState(c.addr)
		if ok && len(st.Workers) == 2 && st.Workers[0].State == "running" && st.Workers[1].State == "running" && st.Workers[0].RPS > 0 && st.Workers[1].RPS > 0 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard never listed 2 running workers with a nonzero req/s:\n%s", c.master.err)
		}
	}
}

// wait waits for the master and the workers to exit and returns how long
// the master ran.
func (c *mdashCluster) wait(t *testing.T) time.Duration {
	t.Helper()
	for _, r := range append([]*cdashRun{c.master}, c.workers...) {
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("surge did not exit within 20 s of the stop; master stderr:\n%s", c.master.err)
		}
	}
	return time.Since(c.start)
}

// mdashControls reads the controls the master's dashboard offers.
func mdashControls(t *testing.T, addr string) dashboard.Controls {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ Controls dashboard.Controls }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Controls
}

// TestMasterDashboardStop steers a distributed script run over HTTP, as
// a script would: the master's dashboard says it offers Stop only,
// refuses a user count and a reset with 409 and the reason, and its Stop
// ends the 30 s run within seconds as Ctrl-C would: the workers stop and
// exit 0, their results are merged, handleSummary() and --summary-export
// get them, and the master exits 0, its summary saying it was stopped
// from the dashboard.
func TestMasterDashboardStop(t *testing.T) {
	dir := t.TempDir()
	export, handled := filepath.Join(dir, "summary.json"), filepath.Join(dir, "handled.json")
	script := filepath.Join(dir, "load.js")
	src := strings.NewReplacer("TARGET", dashTarget(t).URL, "OUT", handled).Replace(mdashScript)
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c := mdashStart(t, "--summary-export", export, script)
	base := "http://" + c.addr
	ctl := mdashControls(t, c.addr)
	if !ctl.Stop || ctl.Users || ctl.Reset || !strings.Contains(ctl.Why, "a distributed run's users are set by its script") {
		t.Errorf("master dashboard controls %+v, want Stop only and why", ctl)
	}
	for path, form := range map[string]url.Values{"/api/users": {"users": {"5"}}, "/api/reset": nil} {
		resp, err := http.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), ctl.Why) {
			t.Errorf("POST %s = %d %q, want 409 with %q", path, resp.StatusCode, b, ctl.Why)
		}
	}
	resp, err := http.Post(base+"/api/stop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/stop = %s, want 202", resp.Status)
	}
	took := c.wait(t)
	m := c.master
	if m.code != 0 || took > mdashDuration-10*time.Second {
		t.Fatalf("master exit %d after %s; want 0 well before its %s\nstderr:\n%s", m.code, took, mdashDuration, m.err)
	}
	if out := m.out.String(); out != "handled\n" {
		t.Errorf("master stdout %q, want handleSummary()'s", out)
	}
	if !strings.Contains(m.err.String(), "master: Stop was pressed on the dashboard") || !strings.Contains(m.err.String(), "stopping the workers") {
		t.Errorf("master log does not say the dashboard stopped the workers:\n%s", m.err)
	}
	for _, w := range c.workers {
		if w.code != 0 || !strings.Contains(w.out.String(), " requests") {
			t.Errorf("worker exit %d, stdout %q; want 0 and its counts", w.code, w.out)
		}
	}
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatalf("--summary-export after the stop: %v", err)
	}
	var sum struct {
		Metrics struct {
			HTTPReqs struct{ Count float64 } `json:"http_reqs"`
		}
		State struct{ TestRunDurationMs float64 }
		Surge struct{ Notes []string }
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	reqs := sum.Metrics.HTTPReqs.Count
	if secs := sum.State.TestRunDurationMs / 1000; reqs < 30 || reqs > 60*(secs+1) || secs >= mdashDuration.Seconds()-10 {
		t.Errorf("exported %v requests over %.1f s; want the merged requests of both workers at 60/s, over a run cut short", reqs, secs)
	}
	if !strings.Contains(strings.Join(sum.Surge.Notes, "\n"), "the test was aborted: stopped from the dashboard") {
		t.Errorf("exported notes %q do not say the run was stopped from the dashboard", sum.Surge.Notes)
	}
	var hs struct{ Reqs, Ms float64 }
	if b, err := os.ReadFile(handled); err != nil || json.Unmarshal(b, &hs) != nil || hs.Reqs != reqs || hs.Ms != sum.State.TestRunDurationMs {
		t.Errorf("handleSummary() wrote %+v (%v); want the merged %v requests over %v ms", hs, err, reqs, sum.State.TestRunDurationMs)
	}
}

// TestMasterDashboardStopInBrowser: in Chromium, the master's dashboard
// shows the users form and Reset stats disabled with the reason, Stop
// usable; clicking Stop ends the 30 s distributed run within seconds and
// the page shows it finished, stopped from the dashboard.
func TestMasterDashboardStopInBrowser(t *testing.T) {
	ctx := dashBrowser(t)
	c := mdashStart(t, "--url", dashTarget(t).URL, "--rate", "60", "-d", mdashDuration.String())
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+c.addr+"/"), chromedp.WaitVisible(chromedp.ID("chart-rps"))); err != nil {
		t.Fatal(err)
	}
	dashPoll(t, ctx, `document.body.dataset.status === "running"`, 10*time.Second)
	disabled := `["#stop", "#reset", "#users-form button", "#users-form input[name=users]", "#users-form input[name=spawn_rate]"].map(s => document.querySelector(s).disabled).join(",")`
	if got := dashEval[string](t, ctx, disabled); got != "false,true,true,true,true" {
		t.Errorf("disabled (stop, reset, apply, users, spawn rate) = %s, want only Stop usable", got)
	}
	why := mdashControls(t, c.addr).Why
	note := dashEval[string](t, ctx, `(e => e.hidden || e.offsetParent === null ? "" : e.innerText)(document.querySelector('#steer-note'))`)
	titles := dashEval[string](t, ctx, `["#reset", "#users-form", "#stop"].map(s => document.querySelector(s).title).join("|")`)
	if !strings.Contains(why, "a distributed run's users are set by its script") || note != why || titles != why+"|"+why+"|" {
		t.Errorf("reason %q shown as %q, titles %q; want it shown, and on the reset and users controls only", why, note, titles)
	}
	dashScreenshot(t, ctx, "dashboard-master.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatal(err)
	}
	dashPoll(t, ctx, `document.body.dataset.status === "finished" && document.querySelector('#message').textContent.includes("stopped from the dashboard")`, 20*time.Second)
	dashScreenshot(t, ctx, "dashboard-master-stopped.png")
	took := c.wait(t)
	if c.master.code != 0 || took > mdashDuration-10*time.Second || !strings.Contains(c.master.out.String(), "the test was aborted: stopped from the dashboard") {
		t.Fatalf("master exit %d after %s, stdout:\n%s\nwant exit 0 well before %s, stopped from the dashboard", c.master.code, took, c.master.out, mdashDuration)
	}
}
