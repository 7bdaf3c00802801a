package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgeload/surge/internal/dashboard"
	"github.com/surgeload/surge/internal/demo"
)

// dashTarget is a service under test answering in about 5 ms, so that a
// few VUs make a steady load without saturating the machine.
func dashTarget(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dashFreeAddr picks a free loopback port for the dashboard.
func dashFreeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type dashRun struct {
	code     int
	out, err string
	took     time.Duration
	done     chan struct{} // closed when Main has returned
	cancel   func()        // Ctrl-C
}

// dashStart runs surge in the background and waits for its dashboard.
func dashStart(t *testing.T, addr string, args ...string) *dashRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	r := &dashRun{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.done)
		defer cancel()
		var out, errb bytes.Buffer
		start := time.Now()
		r.code = Main(ctx, &out, &errb, append([]string{"run", "--dashboard=" + addr, "--no-save", "--quiet"}, args...))
		r.out, r.err, r.took = out.String(), errb.String(), time.Since(start)
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/state")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard did not come up on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dashWait(t *testing.T, r *dashRun, within time.Duration) *dashRun {
	t.Helper()
	select {
	case <-r.done:
		return r
	case <-time.After(within):
		t.Fatalf("the run did not end within %s", within)
	}
	return nil
}

func TestDashboardRefusesPublicAddressWithoutToken(t *testing.T) {
	srv := dashTarget(t)
	code, _, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-d", "1s", "--no-save", "--dashboard=0.0.0.0:0")
	if code != ExitUsage || !strings.Contains(stderr, "--dashboard: refusing to serve on \"0.0.0.0:0\" without a token") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want exit %d and one line naming --dashboard-token", code, stderr, ExitUsage)
	}
}

func TestDashboardPortInUse(t *testing.T) {
	srv := dashTarget(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	code, _, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-d", "5s", "--no-save", "--dashboard="+ln.Addr().String())
	if code != ExitUsage || !strings.Contains(stderr, "--dashboard: listening on "+ln.Addr().String()) || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d after %s, stderr %q; want exit %d at once, naming the address", code, time.Since(start), stderr, ExitUsage)
	}
}

// TestDashboardSteersTheRun changes the number of users and stops the run
// over HTTP, as a script or curl would (no Origin header, so no browser
// cross-origin rules apply).
func TestDashboardSteersTheRun(t *testing.T) {
	srv := dashTarget(t)
	addr := dashFreeAddr(t)
	done := dashStart(t, addr, "--url", srv.URL, "--stage", "20s:1")
	base := "http://" + addr
	resp, err := http.PostForm(base+"/api/users", url.Values{"users": {"4"}, "spawn_rate": {"0"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST users: %s", resp.Status)
	}
	var users float64
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline) && users != 4; time.Sleep(200 * time.Millisecond) {
		var st struct{ Stats struct{ Users float64 } }
		resp, err := http.Get(base + "/api/state")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		users = st.Stats.Users
	}
	if users != 4 {
		t.Fatalf("active users %v after asking for 4, want 4 (the ramp alone gives at most 1)", users)
	}
	if resp, err = http.Post(base+"/api/stop", "", nil); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := dashWait(t, done, 15*time.Second)
	if r.code != 0 || !strings.Contains(r.out, "stopped from the dashboard") || r.took > 15*time.Second {
		t.Fatalf("exit %d after %s, stdout:\n%s\nstderr:\n%s\nwant exit 0 well before 20 s, stopped from the dashboard", r.code, r.took, r.out, r.err)
	}
}

// dashChromium finds Chromium; in CI (CI=true) its absence fails the test.
func dashChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (test.sh installs it); CI requires the dashboard browser test")
	}
	t.Skip("skipping: chromium is not installed (apt-get install -y chromium)")
	return ""
}

func dashBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(dashChromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// dashArtifacts is where screenshots go: $SURGE_ARTIFACTS when set.
func dashArtifacts(t *testing.T) string {
	if d := os.Getenv("SURGE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func dashEval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// dashPoll evaluates js until it returns true, for at most d.
func dashPoll(t *testing.T, ctx context.Context, js string, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if dashEval[bool](t, ctx, js) {
			return
		}
		if time.Now().After(deadline) {
			state := dashEval[string](t, ctx, `"status " + document.body.dataset.status + ", message " + JSON.stringify((document.querySelector('#message') || {}).textContent || "")`)
			t.Fatalf("after %s still false: %s (page: %s)", d, js, state)
		}
	}
}

func dashScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dashArtifacts(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// dashScript has two scenarios: a ramp whose first stage ends at 3 s, and
// a steady user.
const dashScript = `import http from "k6/http";
export const options = {
  scenarios: {
    ramp: { executor: "ramping-vus", startVUs: 2, stages: [{ duration: "3s", target: 3 }, { duration: "20s", target: 5 }] },
    steady: { executor: "constant-vus", vus: 1, duration: "23s" },
  },
};
export default function () { http.get("TARGET", { tags: { name: "GET /ok" } }); }
`

// TestDashboardInBrowser drives Chromium against the dashboard of a real
// run of a script with two scenarios, kept after the run
// (SURGE_DASHBOARD_KEEP): the charts gain points and mark the warm-up and
// the script's stages, the statistics table fills, the user mix has a row
// per scenario, Stop ends the run long before its 23 s, and the page shows
// that it finished, with steering disabled and the report downloadable.
func TestDashboardInBrowser(t *testing.T) {
	t.Setenv("SURGE_DASHBOARD_KEEP", "30s")
	ctx := dashBrowser(t)
	srv := dashTarget(t)
	addr := dashFreeAddr(t)
	script := filepath.Join(t.TempDir(), "two.js")
	if err := os.WriteFile(script, []byte(strings.Replace(dashScript, "TARGET", srv.URL+"/ok", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	done := dashStart(t, addr, script, "--warmup", "2s")
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/"), chromedp.WaitVisible(chromedp.ID("chart-rps"))); err != nil {
		t.Fatal(err)
	}
	points := `(+document.querySelector('#chart-rps').dataset.points || 0)`
	lat := `(+document.querySelector('#chart-lat').dataset.values || 0)`
	dashPoll(t, ctx, lat+` >= 12 && document.body.dataset.status === "running"`, 15*time.Second)
	n := dashEval[int](t, ctx, points)
	dashPoll(t, ctx, points+` > `+itoa(n), 5*time.Second)
	for _, id := range []string{"chart-rps", "chart-lat", "chart-users", "chart-scen"} {
		if v := dashEval[int](t, ctx, `+document.querySelector('#`+id+`').dataset.values || 0`); v < 3 {
			t.Errorf("chart %s drew %d values, want at least 3", id, v)
		}
	}
	// Warm-up and the end of the first stage (3 s) are marked on every chart.
	if got := dashEval[string](t, ctx, `[...document.querySelectorAll('canvas.chart')].map(c => c.dataset.warmup + c.dataset.stages).join(",")`); got != "11,11,11,11" {
		t.Errorf("warm-up and stage marks per chart = %q, want 11 (band and one stage line) on each of 4 charts", got)
	}
	dashScreenshot(t, ctx, "dashboard-charts.png")

	// The statistics tab shows the request name with a count that grows.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#tabs button[data-tab="stats"]`))); err != nil {
		t.Fatal(err)
	}
	row := dashEval[string](t, ctx, `document.querySelector('#stats-table tbody tr').innerText`)
	if !strings.Contains(row, "GET /ok") {
		t.Errorf("first statistics row %q, want the request name GET /ok", row)
	}
	dashScreenshot(t, ctx, "dashboard-stats.png")

	// The user mix has a row per scenario (a row per class for Locust-style
	// users), and the users chart a line per scenario.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#tabs button[data-tab="users"]`))); err != nil {
		t.Fatal(err)
	}
	mix := `[...document.querySelectorAll('#mix-table tbody tr:not(.empty)')].map(r => r.cells[0].innerText + ":" + r.cells[2].innerText).join(",")`
	dashPoll(t, ctx, `/^ramp:[2-5],steady:1$/.test(`+mix+`)`, 5*time.Second)
	dashScreenshot(t, ctx, "dashboard-users.png")
	if got := dashEval[string](t, ctx, `document.querySelector('.legend[data-for="chart-users"]').innerText`); !strings.Contains(got, "ramp") || !strings.Contains(got, "steady") {
		t.Errorf("users chart legend %q, want a line per scenario", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#tabs button[data-tab="profiles"]`))); err != nil {
		t.Fatal(err)
	}
	if got := dashEval[string](t, ctx, `document.querySelector('#tab-profiles').innerText`); !strings.Contains(got, "--profile-pid PID") {
		t.Errorf("profiles tab %q, want the placeholder naming --profile-pid", got)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatal(err)
	}
	// The page shows the end; the kept dashboard disables steering, still
	// serves the HTML report, and says there was no profile.
	dashPoll(t, ctx, `document.body.dataset.status === "finished" && document.querySelector('#message').textContent.includes("stopped from the dashboard")`, 15*time.Second)
	if got := dashEval[string](t, ctx, `["#stop", "#reset", "#users-form button"].map(b => document.querySelector(b).disabled).join(",")`); got != "true,true,true" {
		t.Errorf("steering buttons disabled after the run: %s, want all", got)
	}
	dashPoll(t, ctx, `document.querySelector('#tab-profiles').innerText.includes("No profile: run with --profile-pid")`, 3*time.Second)
	if got := dashEval[int](t, ctx, `(() => { const x = new XMLHttpRequest(); x.open("GET", "api/report.html", false); x.send(); return x.status; })()`); got != 200 {
		t.Errorf("report download from the finished page: %d, want 200", got)
	}
	dashScreenshot(t, ctx, "dashboard-finished.png")
	select {
	case <-done.done:
		t.Fatal("surge returned while its dashboard should be kept")
	default:
	}
	done.cancel() // Ctrl-C
	r := dashWait(t, done, 5*time.Second)
	if r.code != 0 || !strings.Contains(r.out, "stopped from the dashboard") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and a summary saying it was stopped from the dashboard", r.code, r.out, r.err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestDashboardParseKeep(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"", 0, ""},
		{"0", 0, ""},
		{"false", 0, ""},
		{"90s", 90 * time.Second, ""},
		{"true", dashboard.KeepUntilClosed, ""},
		{"1", dashboard.KeepUntilClosed, ""},
		{"-5s", 0, "want a duration such as 10m"},
		{"forever", 0, `--dashboard-keep (or SURGE_DASHBOARD_KEEP) "forever": want a duration`},
	} {
		got, err := parseKeep(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseKeep(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseKeep(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestDashboardKeepRefusesABadValue(t *testing.T) {
	srv := dashTarget(t)
	for _, how := range []string{"flag", "env"} {
		args := []string{"run", "--url", srv.URL, "-d", "5s", "--no-save", "--dashboard=" + dashFreeAddr(t)}
		if how == "flag" {
			args = append(args, "--dashboard-keep", "forever")
		} else {
			t.Setenv("SURGE_DASHBOARD_KEEP", "forever")
		}
		code, _, stderr := runCLI(t, context.Background(), args...)
		if code != ExitUsage || !strings.Contains(stderr, `--dashboard: --dashboard-keep (or SURGE_DASHBOARD_KEEP) "forever": want a duration`) || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("%s: exit %d, stderr %q; want exit %d and one line", how, code, stderr, ExitUsage)
		}
	}
}

// TestDashboardKeepsServingAfterTheRun: with --dashboard-keep the
// dashboard of a finished run still shows its results and serves the
// downloads, refuses steering, and closes at Ctrl-C.
func TestDashboardKeepsServingAfterTheRun(t *testing.T) {
	srv := dashTarget(t)
	addr := dashFreeAddr(t)
	r := dashStart(t, addr, "--url", srv.URL, "--name", "GET /ok", "-d", "1s", "--dashboard-keep", "true")
	base := "http://" + addr
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, st := get("/api/state"); strings.Contains(st, `"status":"finished"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not finish within 10 s")
		}
	}
	for path, want := range map[string]string{
		"/":                `<script src="assets/app.js">`,
		"/api/stats.csv":   "GET,GET /ok,",
		"/api/stats.json":  `"final":{`,
		"/api/report.html": "GET /ok",
	} {
		if code, body := get(path); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s after the run = %d %.200q, want 200 containing %q", path, code, body, want)
		}
	}
	resp, err := http.Post(base+"/api/stop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "the run has finished") {
		t.Errorf("POST stop after the run = %d %q, want 409 saying the run has finished", resp.StatusCode, b)
	}
	select {
	case <-r.done:
		t.Fatalf("surge returned while the dashboard should be kept (exit %d, stderr %q)", r.code, r.err)
	default:
	}
	r.cancel() // Ctrl-C
	r = dashWait(t, r, 5*time.Second)
	if r.code != 0 || !strings.Contains(r.err, "the run has finished; still serving") || !strings.Contains(r.out, "http_reqs") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0, the summary, and a line saying the dashboard is kept", r.code, r.out, r.err)
	}
	if _, err := http.Get(base + "/api/state"); err == nil {
		t.Error("the dashboard still answers after Ctrl-C")
	}
}

// TestDashboardProfilesInBrowser profiles the demo API through its pprof
// endpoint during a two-stage run kept after the end, and checks in
// Chromium that the Profiles tab runs the flame graphs' scripts (frames
// drawn) and that the SQL tab says how to get SQL.
func TestDashboardProfilesInBrowser(t *testing.T) {
	t.Setenv("SURGE_DASHBOARD_KEEP", "30s")
	ctx := dashBrowser(t)
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	t.Cleanup(srv.Close)
	addr := dashFreeAddr(t)
	r := dashStart(t, addr, "--url", srv.URL+"/api/flaky", "--stage", "1s:2", "--stage", "1s:4",
		"--profile-url", srv.URL+"/debug/pprof", "--profile-dir", t.TempDir())
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/api/state")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"status":"finished"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not finish within 20 s")
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/"), chromedp.WaitVisible(chromedp.ID("chart-rps")),
		chromedp.Click(chromedp.CSS(`#tabs button[data-tab="profiles"]`))); err != nil {
		t.Fatal(err)
	}
	frames := `(() => { const f = document.querySelector('#tab-profiles iframe'); const d = f && f.contentDocument; return d ? d.querySelectorAll('.sfg .frame').length : 0; })()`
	dashPoll(t, ctx, frames+` > 3`, 10*time.Second)
	if got := dashEval[string](t, ctx, `document.querySelector('#tab-profiles').innerText`); !strings.Contains(got, "PROFILES") {
		t.Errorf("profiles tab %.200q, want the PROFILES section", got)
	}
	dashScreenshot(t, ctx, "dashboard-profiles.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#tabs button[data-tab="sql"]`))); err != nil {
		t.Fatal(err)
	}
	if got := dashEval[string](t, ctx, `document.querySelector('#tab-sql').innerText`); !strings.Contains(got, "No SQL: run with --pg DSN") {
		t.Errorf("SQL tab %q, want the placeholder naming --pg", got)
	}
	r.cancel()
	if r = dashWait(t, r, 5*time.Second); r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.err)
	}
}
