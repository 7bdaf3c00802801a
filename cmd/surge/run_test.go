package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/threads"
)

// runCLI runs surge in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(ctx, &out, &errb, args)
	return code, out.String(), errb.String()
}

func okServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"id":1,"name":"a","value":42}]`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunBadInput(t *testing.T) {
	srv := okServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unparseable URL", []string{"run", "--url", "http://[::1", "-d", "1s"}, `--url: invalid URL "http://[::1"`},
		{"not http", []string{"run", "--url", "ftp://127.0.0.1/", "-d", "1s"}, "scheme must be http or https"},
		{"unknown flag", []string{"run", "--url", srv.URL, "--vuz", "3"}, "flag provided but not defined: -vuz"},
		{"bad duration", []string{"run", "--url", srv.URL, "-d", "ten seconds"}, `invalid value "ten seconds" for flag -d: parse error (want a duration such as 500ms, 30s, 1m30s or 2h)`},
		{"bad number", []string{"run", "--url", srv.URL, "-u", "abc"}, `invalid value "abc" for flag -u: parse error (want a whole number)`},
		{"bad threshold", []string{"run", "--url", srv.URL, "-d", "1s", "--threshold", "http_req_duration: p(95<500"}, `expected ")" at column 5`},
		{"threshold on wrong type", []string{"run", "--url", srv.URL, "-d", "1s", "--threshold", "http_reqs: p(95)<500"}, `a counter metric has no "p"`},
		{"rate without duration", []string{"run", "--url", srv.URL, "--rate", "100"}, "--rate needs --duration"},
		{"zero time unit", []string{"run", "--url", srv.URL, "--rate", "1", "-d", "1s", "--time-unit", "0s"}, "--time-unit 0s: want a positive duration"},
		{"negative time unit", []string{"run", "--url", srv.URL, "--rate", "1", "-d", "1s", "--time-unit", "-1s"}, "--time-unit -1s: want a positive duration"},
		{"bad stage", []string{"run", "--url", srv.URL, "--stage", "30s"}, "want DURATION:TARGET"},
		{"bad out", []string{"run", "--url", srv.URL, "-d", "1s", "--out", "xml=f"}, `unknown output "xml"`},
		{"bad tag", []string{"run", "--url", srv.URL, "-d", "1s", "--tag", "novalue"}, "want NAME=VALUE"},
		{"nothing", []string{"run"}, "nothing to run"},
		{"missing script", []string{"run", "nosuch.js"}, "nosuch.js: no such script"},
		{"bad trend stat", []string{"run", "--url", srv.URL, "-d", "1s", "--summary-trend-stats", "avg,p95"}, `unknown statistic "p95"`},
		{"unknown command", []string{"runn"}, `unknown command "runn"`},
		{"negative threads", []string{"run", "--url", srv.URL, "-d", "1s", "--threads", "-1"}, "--threads -1: want a number of threads"},
		{"warm-up as long as the test", []string{"run", "--url", srv.URL, "-d", "2s", "--warmup", "2s"}, "--warmup 2s is not shorter than the test (2s): nothing of the load would be measured"},
		{"warm-up longer than the stages", []string{"run", "--url", srv.URL, "--stage", "1s:2", "--stage", "1s:0", "--warmup", "5s"}, "--warmup 5s is not shorter than the test (2s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), tc.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, stderr)
			}
		})
	}
}

func TestRunQuickURLWithExports(t *testing.T) {
	srv := okServer(t)
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.json")
	points := filepath.Join(dir, "points.ndjson")
	prefix := filepath.Join(dir, "stats")
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL+"/api/items", "-u", "4", "-d", "2s",
		"--threshold", "http_req_duration: p(95)<2000", "--threshold", "http_req_failed: rate<0.01",
		"--summary-export", summary, "--out", "json="+points, "--out", "csv="+prefix)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, want := range []string{"THRESHOLDS", "✓ http_req_duration: 'p(95)<2000'", "REQUESTS", "/api/items", "http_reqs", "iteration_duration"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	var sum struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	reqs := sum.Metrics["http_reqs"]["count"].(float64)
	if reqs < 10 {
		t.Fatalf("http_reqs count %v", reqs)
	}
	dur := sum.Metrics["http_req_duration"]
	if dur["p(95)"].(float64) <= 0 || dur["thresholds"].(map[string]any)["p(95)<2000"] != false {
		t.Errorf("http_req_duration %v: want p(95) > 0 and its threshold not failed (false)", dur)
	}
	if f := sum.Metrics["http_req_failed"]; f["value"].(float64) != 0 || f["fails"].(float64) != reqs {
		t.Errorf("http_req_failed %v", f)
	}
	// NDJSON: the per-second counts of http_reqs add up to the summary's count
	fh, err := os.Open(points)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var ndSum float64
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var l struct {
			Metric string  `json:"metric"`
			Sum    float64 `json:"sum"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad NDJSON line %q: %v", sc.Text(), err)
		}
		if l.Metric == "http_reqs" {
			ndSum += l.Sum
		}
	}
	if ndSum != reqs {
		t.Errorf("NDJSON http_reqs sum %v, summary count %v", ndSum, reqs)
	}
	rows := readCSV(t, prefix+"_stats.csv")
	if len(rows) != 3 || rows[1][1] != srv.URL+"/api/items" || rows[2][1] != "Aggregated" {
		t.Errorf("stats.csv rows %v", rows)
	}
	if hist := readCSV(t, prefix+"_stats_history.csv"); len(hist) < 2 {
		t.Errorf("stats_history.csv has %d rows", len(hist))
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
		t.Fatal(err)
	}
	return rows
}

func TestRunRefusedConnectionCountsFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", "http://"+addr+"/", "-u", "1", "-i", "20",
		"--threshold", "http_req_failed: rate<0.01")
	if code != ExitThresholdsFailed {
		t.Fatalf("exit %d, want 99\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"✗ http_req_failed: 'rate<0.01' rate=100.00%", "20×", "connection refused", "20(100.00%)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// TestRunServerClosesMidResponse: a server that promises 100 bytes, sends
// 10 and hangs up. Every request is a failure with an error, and the test
// finishes (no hang).
func TestRunServerClosesMidResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
		buf.Flush()
		conn.Close()
	}))
	defer srv.Close()
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-u", "2", "-i", "30", "--summary-export", filepath.Join(dir, "s.json"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "30(100.00%)") || !strings.Contains(stdout, "ERRORS") {
		t.Errorf("want 30 failed requests and an ERRORS section:\n%s", stdout)
	}
}

func TestRunEnvironmentAndConfigFile(t *testing.T) {
	srv := okServer(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "surge.yaml")
	os.WriteFile(cfgPath, []byte("vus: 3\niterations: 9\nthreshold:\n  - 'http_reqs: count==9'\n"), 0o644)
	// the config file sets 9 iterations; the environment overrides it with 12;
	// the threshold from the file then fails, proving both were read
	t.Setenv("SURGE_ITERATIONS", "12")
	code, stdout, _ := runCLI(t, context.Background(), "run", "--config", cfgPath, "--url", srv.URL)
	if code != ExitThresholdsFailed || !strings.Contains(stdout, "count=12") {
		t.Errorf("exit %d, want 99 with count=12:\n%s", code, stdout)
	}
	// the command line wins over both
	code, stdout, _ = runCLI(t, context.Background(), "run", "--config", cfgPath, "--url", srv.URL, "-i", "9")
	if code != 0 || !strings.Contains(stdout, "✓ http_reqs: 'count==9'") {
		t.Errorf("exit %d, want 0 with 9 requests:\n%s", code, stdout)
	}
	os.WriteFile(cfgPath, []byte("vus: 3\nvuss: 2\n"), 0o644)
	code, _, stderr := runCLI(t, context.Background(), "run", "--config", cfgPath, "--url", srv.URL)
	if code != ExitUsage || !strings.Contains(stderr, `unknown setting "vuss"`) {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

// TestRunInterruptWritesEverything cancels a 60 s run after about one second,
// as Ctrl-C does: the summary and the export are still written and the exit
// code says it was interrupted.
func TestRunInterruptWritesEverything(t *testing.T) {
	srv := okServer(t)
	export := filepath.Join(t.TempDir(), "s.json")
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, stdout, _ := runCLI(t, ctx, "run", "--url", srv.URL, "-u", "2", "-d", "60s", "--summary-export", export)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("run took %v after the interrupt", took)
	}
	if code != ExitInterruptedRun {
		t.Errorf("exit %d, want %d", code, ExitInterruptedRun)
	}
	if !strings.Contains(stdout, "stopped before its end") || !strings.Contains(stdout, "http_reqs") {
		t.Errorf("summary:\n%s", stdout)
	}
	if fi, err := os.Stat(export); err != nil || fi.Size() == 0 {
		t.Errorf("export not written: %v", err)
	}
}

// TestRunOpenModelUnderStall is BENCHMARKS.md's coordinated-omission setup:
// the server stalls for the last second of every five; 1,000 requests/s for
// 10 s. Requests sent on schedule wait uniformly 0–1 s in 20% of cases, so a
// truthful tool reports p90 ≈ 0.5 s and p99 ≈ 0.95 s (accepted: 0.40–0.60 s
// and 0.85–1.05 s), and drops nothing it does not count.
func TestRunOpenModelUnderStall(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s load test")
	}
	if raceEnabled {
		t.Skip("timing acceptance: test.sh runs it again without -race, where it measures surge and not the race detector")
	}
	var start atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := time.Unix(0, start.Load())
		if start.Load() == 0 {
			start.CompareAndSwap(0, time.Now().UnixNano())
			s = time.Unix(0, start.Load())
		}
		el := time.Since(s)
		if phase := el % (5 * time.Second); phase >= 4*time.Second {
			time.Sleep(5*time.Second - phase)
		}
		w.Write([]byte(`[{"id":1}]`))
	}))
	defer srv.Close()
	export := filepath.Join(t.TempDir(), "s.json")
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "--rate", "1000", "-d", "10s", "--max-vus", "3000", "--summary-export", export)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var sum struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
		Surge   struct {
			Dropped int64 `json:"dropped_iterations"`
		} `json:"surge"`
	}
	data, _ := os.ReadFile(export)
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	d := sum.Metrics["http_req_duration"]
	p90, p99 := d["p(90)"]/1000, d["p(99)"]/1000
	t.Logf("p90 %.3fs p99 %.3fs, %v requests, %d dropped", p90, p99, sum.Metrics["http_reqs"]["count"], sum.Surge.Dropped)
	if p90 < 0.40 || p90 > 0.60 || p99 < 0.85 || p99 > 1.05 {
		t.Errorf("p90 %.3fs p99 %.3fs; want 0.40–0.60 s and 0.85–1.05 s", p90, p99)
	}
	if n := sum.Metrics["http_reqs"]["count"] + float64(sum.Surge.Dropped); n != 10000 {
		t.Errorf("requests %v + dropped %d = %v, want the 10,000 scheduled", sum.Metrics["http_reqs"]["count"], sum.Surge.Dropped, n)
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, context.Background(), "help")
	if code != 0 || !strings.Contains(out, "run ") || !strings.Contains(out, "demo ") {
		t.Errorf("help: %d %q", code, out)
	}
	code, out, _ = runCLI(t, context.Background(), "run", "-h")
	if code != 0 || !strings.Contains(out, "-rate") {
		t.Errorf("run -h: %d %q", code, out)
	}
}

func TestDemoRunsAndPasses(t *testing.T) {
	code, out, stderr := runCLI(t, context.Background(), "demo", "-d", "3s", "-u", "5")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"/auth/login", "/api/items", "/api/slow", "/api/flaky", "✓ items listed"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo summary lacks %q:\n%s", want, out)
		}
	}
}

func TestRunWarmupAndProgressLines(t *testing.T) {
	srv := okServer(t)
	dir := t.TempDir()
	export, points := filepath.Join(dir, "s.json"), filepath.Join(dir, "p.ndjson")
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-u", "2", "-d", "3s", "--warmup", "1s",
		"--progress-every", "1s", "--summary-export", export, "--out", "json="+points, "--no-save")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "warm-up: the first 1s are excluded from these results") {
		t.Errorf("summary does not say the warm-up was excluded:\n%s", stdout)
	}
	if n := strings.Count(stderr, "surge: running "); n < 2 {
		t.Errorf("%d status lines on a non-terminal stderr, want one a second:\n%s", n, stderr)
	}
	var sum struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	data, _ := os.ReadFile(export)
	json.Unmarshal(data, &sum)
	// the summary counts exactly the points not marked warm-up, and the
	// first second's points are marked
	var measured, warm float64
	nd, _ := os.ReadFile(points)
	for _, line := range strings.Split(strings.TrimSpace(string(nd)), "\n") {
		var l struct {
			Metric string  `json:"metric"`
			Sum    float64 `json:"sum"`
			Warmup bool    `json:"warmup"`
		}
		json.Unmarshal([]byte(line), &l)
		if l.Metric != "http_reqs" {
			continue
		}
		if l.Warmup {
			warm += l.Sum
		} else {
			measured += l.Sum
		}
	}
	reqs := sum.Metrics["http_reqs"]
	if warm == 0 || measured != reqs["count"] {
		t.Errorf("warm-up requests %v, measured %v, summary %v: want some warm-up and the summary = measured", warm, measured, reqs["count"])
	}
	// the footer counts what the results hold: the iterations after the warm-up
	if want := fmt.Sprintf("after a 1s warm-up, %.0f iterations", sum.Metrics["iterations"]["count"]); !strings.Contains(stdout, want) {
		t.Errorf("summary footer lacks %q:\n%s", want, stdout)
	}
	// the measured window is the 2 s after warm-up, so the rate is count/2s
	if secs := reqs["count"] / reqs["rate"]; secs < 1.8 || secs > 2.3 {
		t.Errorf("rate covers %.2fs, want about 2 (3 s run, 1 s warm-up)", secs)
	}
}

func TestDemoReportIsSelfContained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.html")
	code, out, stderr := runCLI(t, context.Background(), "demo", "-d", "3s", "-u", "4", "--no-save", "--report", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "/api/items") {
		t.Error("the report has no charts or no request table")
	}
	if m := regexp.MustCompile(`https?://[^"'<\s]*`).FindAllString(page, -1); len(m) > 0 {
		t.Errorf("the report references external URLs: %v", m)
	}
}

// TestRunPrometheusOutput scrapes /metrics while a run is going.
func TestRunPrometheusOutput(t *testing.T) {
	srv := okServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	done := make(chan int, 1)
	go func() {
		code, _, _ := runCLI(t, context.Background(), "run", "--url", srv.URL, "-u", "2", "-d", "3s", "--no-save", "--out", "prometheus="+addr)
		done <- code
	}()
	var page string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b := new(bytes.Buffer)
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if strings.Contains(b.String(), "surge_http_reqs_total{") {
			page = b.String()
			break
		}
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	if page == "" || !strings.Contains(page, "# TYPE surge_http_req_duration histogram") {
		t.Errorf("no metrics scraped during the run:\n%s", page)
	}
}

// TestRunThreads: --threads N runs the load on N threads (GOMAXPROCS, as
// wrk's -t), seen from the server in the same process, and gives the
// process its threads back after the run.
func TestRunThreads(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: --threads 1 changes nothing to see")
	}
	before := runtime.GOMAXPROCS(0)
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(int64(runtime.GOMAXPROCS(0)))
	}))
	defer srv.Close()
	code, out, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-i", "3", "--threads", "1", "--no-save")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if got := seen.Load(); got != 1 {
		t.Errorf("GOMAXPROCS during the run = %d, want 1", got)
	}
	if after := runtime.GOMAXPROCS(0); after != before {
		t.Errorf("GOMAXPROCS after the run = %d, want %d back", after, before)
	}
}

// TestRunLeavesCPUsToLocalServer: without --threads, a run whose server is
// on this machine in another process runs on half the CPUs and says so in
// its summary; a server in surge's own process (here the test's, for the
// in-process CLI) is left alone, and so is an explicit --threads.
func TestRunLeavesCPUsToLocalServer(t *testing.T) {
	want := threads.Share(runtime.NumCPU())
	if runtime.NumCPU() <= want {
		t.Skipf("%d CPU: nothing to leave", runtime.NumCPU())
	}
	before := runtime.GOMAXPROCS(0)
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(int64(runtime.GOMAXPROCS(0)))
	}))
	defer srv.Close()
	bin := surgeBin(t)
	dir := t.TempDir()
	note := func(t *testing.T, export string) bool {
		t.Helper()
		for _, n := range readSummary(t, export).Surge.Notes {
			if strings.HasPrefix(n, fmt.Sprintf("threads: %d of %d CPUs", want, runtime.NumCPU())) && strings.Contains(n, srv.Listener.Addr().String()) {
				return true
			}
		}
		return false
	}
	t.Run("same process", func(t *testing.T) {
		export := filepath.Join(dir, "same.json")
		code, out, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-i", "3", "--no-save", "--summary-export", export)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
		}
		if got := seen.Load(); got != int64(before) {
			t.Errorf("GOMAXPROCS during the run = %d, want %d (the server shares it)", got, before)
		}
		if note(t, export) {
			t.Errorf("threads note for a server in the same process:\n%s", out)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		note bool
	}{
		{"other process", nil, true},
		{"explicit threads", []string{"--threads", strconv.Itoa(runtime.NumCPU())}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			export := filepath.Join(dir, tc.name+".json")
			args := append([]string{"run", "--url", srv.URL, "-i", "3", "--no-save", "--summary-export", export}, tc.args...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("surge %v: %v\n%s", args, err, out)
			}
			if got := note(t, export); got != tc.note {
				t.Errorf("threads note in the summary: %v, want %v\n%s", got, tc.note, out)
			}
		})
	}
}

// TestRunBadEnvironmentValue: a value from the environment that does not
// parse is one line naming the variable and the kind of value wanted, and
// nothing runs.
func TestRunBadEnvironmentValue(t *testing.T) {
	srv, hits := pathCounter(t)
	t.Setenv("SURGE_VUS", "abc")
	code, _, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL+"/work", "-d", "1s")
	if code != ExitUsage || !strings.Contains(stderr, `environment SURGE_VUS="abc": parse error (want a whole number)`) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q: want exit %d and one line naming SURGE_VUS", code, stderr, ExitUsage)
	}
	wantHits(t, hits, map[string]int64{"/work": 0})
}
