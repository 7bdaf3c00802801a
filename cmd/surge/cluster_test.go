package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// The cluster tests run master and workers as separate processes of a
// surge binary built once for the package's tests.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// surgeBin builds the surge binary on first use (only the tests that run
// processes pay for it).
func surgeBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "surge-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "surge")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a surge process whose output is captured line by line.
type proc struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // stdout
	errb   bytes.Buffer // stderr
	lines  chan string  // stderr lines, as they come
	done   chan struct{}
	code   int
	exited time.Time
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startIn(t, name, nil, args...)
}

// startIn starts surge under a wrapper command (ip netns exec NS).
func startIn(t *testing.T, name string, wrapper []string, args ...string) *proc {
	t.Helper()
	argv := append(append(append([]string(nil), wrapper...), surgeBin(t)), args...)
	p := &proc{name: name, cmd: exec.Command(argv[0], argv[1:]...), lines: make(chan string, 1024), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	p.cmd.Stdout = &lockedWriter{mu: &p.mu, w: &p.out}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.errb.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.cmd.Wait()
		p.exited = time.Now()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", p.name, p.stdout(), p.name, p.stderr())
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

// waitLine waits for a stderr line matching re and returns its submatches.
func (p *proc) waitLine(t *testing.T, re string, d time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(d)
	for {
		select {
		case l := <-p.lines:
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("%s: no line matching %q within %s", p.name, re, d)
		case <-p.done:
			t.Fatalf("%s exited (code %d) before a line matching %q", p.name, p.code, re)
		}
	}
}

func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("%s did not exit within %s", p.name, d)
	}
	return -1
}

// countingServer is the system under test.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// startCluster starts a master with args and n workers; it returns once
// the master listens.
func startCluster(t *testing.T, n int, masterArgs ...string) (*proc, []*proc, string) {
	t.Helper()
	args := append([]string{"master", "--listen", "127.0.0.1:0", "--token", "tok", "--expect-workers", strconv.Itoa(n), "--quiet", "--no-save"}, masterArgs...)
	m := start(t, "master", args...)
	addr := m.waitLine(t, `listening on (\S+) for`, 30*time.Second)[1]
	var ws []*proc
	for i := range n {
		ws = append(ws, startWorker(t, addr, i))
	}
	return m, ws, addr
}

func startWorker(t *testing.T, addr string, i int) *proc {
	log := filepath.Join(t.TempDir(), "deltas.jsonl")
	return start(t, fmt.Sprint("worker", i), "worker", "--master", addr, "--token", "tok", "--name", fmt.Sprint("w", i), "--delta-log", log)
}

var workerLine = regexp.MustCompile(`worker (\S+): (\d+) runs, (\d+) requests, (\d+) iterations`)

// workerCounts parses a worker's closing line.
func workerCounts(t *testing.T, w *proc) (requests, iterations int64) {
	t.Helper()
	m := workerLine.FindStringSubmatch(w.stdout())
	if m == nil {
		t.Fatalf("%s printed no closing line:\n%s", w.name, w.stdout())
	}
	r, _ := strconv.ParseInt(m[3], 10, 64)
	i, _ := strconv.ParseInt(m[4], 10, 64)
	return r, i
}

type k6Summary struct {
	Metrics map[string]map[string]any `json:"metrics"`
	Surge   struct {
		Notes []string `json:"notes"`
	} `json:"surge"`
}

func readSummary(t *testing.T, path string) k6Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s k6Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s k6Summary) value(metric, key string) float64 {
	v, _ := s.Metrics[metric][key].(float64)
	return v
}

// TestClusterProcessesRateAndExactMerge: one master and three workers on
// loopback share a 3,000/s arrival rate. The rate is achieved within 1%,
// the merged request count equals the sum of the workers' own counts and
// what the server saw, and the merged p99 equals the p99 of the union of
// the workers' histograms (their delta logs merged afresh).
func TestClusterProcessesRateAndExactMerge(t *testing.T) {
	srv, hits := countingServer(t)
	export := filepath.Join(t.TempDir(), "summary.json")
	jsonOut := filepath.Join(t.TempDir(), "out.ndjson")
	m, ws, _ := startCluster(t, 3, "--url", srv.URL, "--rate", "3000", "-d", "3s", "--summary-export", export, "--out", "json="+jsonOut)
	if code := m.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	var sum, iters int64
	union := metrics.NewRegistry()
	for _, w := range ws {
		if code := w.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("%s exit code %d", w.name, code)
		}
		r, i := workerCounts(t, w)
		sum += r
		iters += i
		mergeDeltaLog(t, union, w.cmd.Args[len(w.cmd.Args)-1])
	}
	s := readSummary(t, export)
	total := int64(s.value("http_reqs", "count"))
	if total != sum || total != hits.Load() {
		t.Errorf("requests: merged %d, sum of the workers' counts %d, served %d; want all equal", total, sum, hits.Load())
	}
	if want := 9000.0; math.Abs(float64(iters)-want) > want/100 || math.Abs(s.value("iterations", "count")-want) > want/100 {
		t.Errorf("3000/s for 3s: %d iterations by the workers, %v merged; want 9000 ± 1%%", iters, s.value("iterations", "count"))
	}
	union.Tick(time.Now())
	want := union.Total(union.Builtin.HTTPReqDuration).Percentile(99)
	if got := s.value("http_req_duration", "p(99)"); got != want {
		t.Errorf("merged p(99) = %v, the union of the workers' histograms gives %v", got, want)
	}
	if b, err := os.ReadFile(jsonOut); err != nil || !strings.Contains(string(b), `"http_reqs"`) {
		t.Errorf("--out json on the master: %v, %d bytes without http_reqs", err, len(b))
	}
	for _, w := range []string{"WORKERS", "w0", "w1", "w2", "done"} {
		if !strings.Contains(m.stdout(), w) {
			t.Errorf("the summary lacks %q", w)
		}
	}
}

func mergeDeltaLog(t *testing.T, reg *metrics.Registry, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	n := 0
	for sc.Scan() {
		var d metrics.Delta
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if err := reg.MergeDelta(d); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("%s holds no deltas", path)
	}
}

// TestClusterWorkerKilled: kill -9 of one worker mid-run. The master
// notices, the run finishes, the loss is in the summary, and the two
// survivors ran its share on top of their own.
func TestClusterWorkerKilled(t *testing.T) {
	srv, _ := countingServer(t)
	export := filepath.Join(t.TempDir(), "summary.json")
	m, ws, _ := startCluster(t, 3, "--url", srv.URL, "--rate", "150", "-d", "6s", "--summary-export", export)
	m.waitLine(t, `started 3 workers`, 30*time.Second)
	time.Sleep(2 * time.Second)
	ws[1].cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	lost := m.waitLine(t, `worker w1 lost at`, 5*time.Second)
	if d := time.Since(killed); d > 3*time.Second {
		t.Errorf("the loss was noticed after %s, want within 3s", d)
	}
	_ = lost
	if code := m.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	s := readSummary(t, export)
	if len(s.Surge.Notes) == 0 || !strings.Contains(strings.Join(s.Surge.Notes, "\n"), "worker w1 was lost at") {
		t.Errorf("the summary does not report the loss: %q", s.Surge.Notes)
	}
	// 900 arrivals; each worker's own share is 300. The survivors run what
	// was left of w1's (about 4s × 50/s) on top of their own.
	for _, i := range []int{0, 2} {
		if code := ws[i].wait(t, 15*time.Second); code != 0 {
			t.Fatalf("%s exit code %d", ws[i].name, code)
		}
		if r, _ := workerCounts(t, ws[i]); r < 360 {
			t.Errorf("%s made %d requests; want its 300 and part of w1's share", ws[i].name, r)
		}
	}
	if total := s.value("http_reqs", "count"); total < 820 || total > 901 { // up to a second of w1's results died with it
		t.Errorf("%v requests in total, want about 900", total)
	}
	if !strings.Contains(m.stdout(), "lost") {
		t.Errorf("the workers table does not show the lost worker:\n%s", m.stdout())
	}
}

// TestClusterMasterKilled: workers stop generating load within 10 s of
// their master's death.
func TestClusterMasterKilled(t *testing.T) {
	srv, hits := countingServer(t)
	m, ws, _ := startCluster(t, 2, "--url", srv.URL, "--vus", "2", "-d", "60s")
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(1500 * time.Millisecond)
	m.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	for _, w := range ws {
		w.wait(t, 10*time.Second)
		if d := w.exited.Sub(killed); d > 10*time.Second {
			t.Errorf("%s exited %s after the master died, want within 10s", w.name, d)
		}
		if !strings.Contains(w.stderr(), "lost the master") {
			t.Errorf("%s does not say it lost the master:\n%s", w.name, w.stderr())
		}
	}
	before := hits.Load()
	time.Sleep(300 * time.Millisecond)
	if after := hits.Load(); after != before || before == 0 {
		t.Errorf("load after the workers exited: %d then %d requests", before, after)
	}
}

// TestClusterWrongToken: a worker with the wrong token is refused with a
// clear message on both sides.
func TestClusterWrongToken(t *testing.T) {
	m := start(t, "master", "master", "--listen", "127.0.0.1:0", "--no-save", "--token", "right", "--url", "http://127.0.0.1:1/", "--wait-timeout", "2s")
	addr := m.waitLine(t, `listening on (\S+) for`, 30*time.Second)[1]
	w := start(t, "worker", "worker", "--master", addr, "--token", "wrong")
	if code := w.wait(t, 15*time.Second); code != ExitUsage {
		t.Errorf("worker exit code %d, want %d", code, ExitUsage)
	}
	if want := "surge worker: the master refused this worker: wrong token"; !strings.Contains(w.stderr(), want) {
		t.Errorf("worker stderr lacks %q:\n%s", want, w.stderr())
	}
	m.waitLine(t, `refused a worker from 127\.0\.0\.1:\d+: wrong token`, 5*time.Second)
	if code := m.wait(t, 15*time.Second); code != ExitError || !strings.Contains(m.stderr(), "only 0 of 1 workers were ready") {
		t.Errorf("master exit code %d, stderr:\n%s", code, m.stderr())
	}
}

func TestClusterBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"master", "--url", "http://x/"}, "--token is required"},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--on-worker-loss", "panic"}, `--on-worker-loss "panic"`},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--expect-workers", "0"}, "--expect-workers must be at least 1"},
		{[]string{"master", "--token", "t"}, "nothing to run"},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--tls-cert", "a.pem"}, "both --tls-cert and --tls-key"},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--threshold", "http_reqs: p(95)<1"}, "--threshold"},
		{[]string{"master", "--token", "t", "no-such-script.js"}, `script "no-such-script.js"`},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--profile-pid", "1"}, "do not work with surge master: while the distributed run goes, profile the service with 'surge profile record"},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--profile-url", "http://x/debug/pprof"}, "surge profile record"},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--pg", "postgres://x/db"}, "surge db top"},
		{[]string{"master", "--token", "t", "--url", "http://x/", "--pg-explain"}, "--pg-explain do not work with surge master"},
		{[]string{"master", "--token", "t", "--url", "http://127.0.0.1:1/", "-d", "2s", "--warmup", "5s"}, "--warmup 5s is not shorter than the test (2s)"},
		{[]string{"worker", "--token", "t"}, "--master HOST:PORT is required"},
		{[]string{"worker", "--master", "127.0.0.1:1"}, "--token is required"},
		{[]string{"worker", "--master", "127.0.0.1:1", "--token", "t", "extra"}, `unexpected argument "extra"`},
		{[]string{"worker", "--master", "127.0.0.1:1", "--token", "t", "--worker-index", "-2"}, "--worker-index -2: want 0 or more"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), &stdout, &stderr, tt.args)
		if code != ExitUsage || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// TestClusterRunArgs: the run flags travel to the workers as set,
// repeatable ones once per value, without the master's own flags.
func TestClusterRunArgs(t *testing.T) {
	var f runFlags
	var mf masterFlags
	fs := newFlagSet("master")
	f.define(fs)
	mf.define(fs)
	if err := parseFlags(fs, []string{"--token", "t", "-H", "A: 1", "--header", "B: 2,3", "-u", "4", "--url", "http://x/", "--expect-workers", "3"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(runArgs(fs), " ")
	want := "--H=A: 1 --H=B: 2,3 --u=4 --url=http://x/"
	if got != want {
		t.Errorf("runArgs = %q, want %q", got, want)
	}
}

// TestClusterMasterHangs: a master that stops answering (SIGSTOP: its
// sockets stay open, as in a network partition) makes the workers stop
// their load within 10 s.
func TestClusterMasterHangs(t *testing.T) {
	srv, hits := countingServer(t)
	m, ws, _ := startCluster(t, 2, "--url", srv.URL, "--vus", "2", "-d", "60s")
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(time.Second)
	m.cmd.Process.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { m.cmd.Process.Signal(syscall.SIGCONT) })
	stopped := time.Now()
	for _, w := range ws {
		w.wait(t, 12*time.Second)
		d := w.exited.Sub(stopped)
		if d > 10*time.Second {
			t.Errorf("%s exited %s after the master hung, want within 10s", w.name, d)
		}
		t.Logf("%s stopped %s after its master hung", w.name, d.Truncate(100*time.Millisecond))
		if !strings.Contains(w.stderr(), "lost the master (nothing heard for") {
			t.Errorf("%s does not say why it stopped:\n%s", w.name, w.stderr())
		}
	}
	before := hits.Load()
	time.Sleep(300 * time.Millisecond)
	if after := hits.Load(); after != before {
		t.Errorf("load continued after the workers exited: %d then %d requests", before, after)
	}
}

// TestClusterWorkerHangs: a worker that stops answering is found lost by
// its missing heartbeats within about 3 s, and the run still ends.
func TestClusterWorkerHangs(t *testing.T) {
	srv, _ := countingServer(t)
	m, ws, _ := startCluster(t, 2, "--url", srv.URL, "--rate", "40", "-d", "5s", "--on-worker-loss", "continue")
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(time.Second)
	ws[0].cmd.Process.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { ws[0].cmd.Process.Signal(syscall.SIGCONT) })
	stopped := time.Now()
	m.waitLine(t, `worker w0 lost at .*no heartbeat for .*its share was not run`, 6*time.Second)
	if d := time.Since(stopped); d > 4*time.Second {
		t.Errorf("the hung worker was noticed after %s, want about 3s", d)
	}
	if code := m.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
}

// TestClusterMasterInterrupted: Ctrl-C on the master stops every worker
// and still writes the summary, with surge run's exit code for an
// interrupted run.
func TestClusterMasterInterrupted(t *testing.T) {
	srv, hits := countingServer(t)
	export := filepath.Join(t.TempDir(), "summary.json")
	m, ws, _ := startCluster(t, 2, "--url", srv.URL, "--vus", "2", "-d", "60s", "--summary-export", export)
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(1500 * time.Millisecond)
	m.cmd.Process.Signal(os.Interrupt)
	if code := m.wait(t, 15*time.Second); code != ExitInterruptedRun {
		t.Errorf("master exit code %d, want %d", code, ExitInterruptedRun)
	}
	for _, w := range ws {
		if code := w.wait(t, 5*time.Second); code != 0 {
			t.Errorf("%s exit code %d", w.name, code)
		}
	}
	s := readSummary(t, export)
	// requests in flight at the stop are cut off and not counted: at most
	// one per VU
	if n, h := s.value("http_reqs", "count"), float64(hits.Load()); n == 0 || n > h || n < h-4 {
		t.Errorf("summary counts %v requests, the server saw %v", n, h)
	}
	if !strings.Contains(m.stdout(), "stopped before its end") {
		t.Errorf("the summary does not say the run was interrupted:\n%s", m.stdout())
	}
}

// TestClusterScript: the master ships a script's directory (the script, a
// module it imports, a file it opens); each worker runs its segment of the
// script's scenario and the script's thresholds are judged on the merged
// results.
func TestClusterScript(t *testing.T) {
	srv, hits := countingServer(t)
	dir := t.TempDir()
	files := map[string]string{
		"test.js": `import http from 'k6/http';
import { path } from './lib/paths.js';
const base = open('./target.txt').trim();
export const options = {
  scenarios: { s: { executor: 'shared-iterations', vus: 4, iterations: 90, maxDuration: '20s' } },
  thresholds: { http_req_failed: ['rate<0.01'], iterations: ['count==90'] },
};
export default function () { http.get(base + path); }
`,
		"lib/paths.js": "export const path = '/from-module';\n",
		"target.txt":   srv.URL + "\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	export := filepath.Join(t.TempDir(), "summary.json")
	html := filepath.Join(t.TempDir(), "report.html")
	saved := filepath.Join(t.TempDir(), "run.json.gz")
	m, ws, _ := startCluster(t, 3, filepath.Join(dir, "test.js"), "--summary-export", export, "--report", html, "--no-save=false", "--save", saved)
	if code := m.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	var sum int64
	for _, w := range ws {
		w.wait(t, 10*time.Second)
		r, _ := workerCounts(t, w)
		sum += r
	}
	s := readSummary(t, export)
	if n := s.value("http_reqs", "count"); n != 90 || sum != 90 || hits.Load() != 90 {
		t.Errorf("requests: merged %v, workers %d, served %d; want 90", n, sum, hits.Load())
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<html") {
		t.Errorf("--report on the master: %v", err)
	}
	if st, err := os.Stat(saved); err != nil || st.Size() == 0 || !strings.Contains(m.stdout(), "result saved to "+saved) {
		t.Errorf("--save on the master: %v", err)
	}
	th, _ := s.Metrics["iterations"]["thresholds"].(map[string]any)
	if failed, ok := th["count==90"].(bool); !ok || failed {
		t.Errorf("the script's threshold count==90 was not judged on the merged data: %v", s.Metrics["iterations"])
	}
}

// netns is a network namespace joined to this one by a veth pair:
// hostIP on this side, nsIP inside.
type netns struct {
	name, hostIf, hostIP, nsIP string
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newNetns creates the namespace, or skips the test saying why it cannot.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: network namespaces need root (run the tests as root to partition a worker)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the ip command (iproute2) is not installed")
	}
	id := os.Getpid() % 250
	n := &netns{name: fmt.Sprintf("surge-t%d", os.Getpid()), hostIf: fmt.Sprintf("sgh%d", os.Getpid()%100000),
		hostIP: fmt.Sprintf("10.213.%d.1", id), nsIP: fmt.Sprintf("10.213.%d.2", id)}
	nsIf := fmt.Sprintf("sgn%d", os.Getpid()%100000)
	if err := ipCmd("netns", "add", n.name); err != nil {
		t.Skipf("skipped: cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() { ipCmd("netns", "del", n.name) })
	steps := [][]string{
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nsIP + "/30", "dev", nsIf},
		{"-n", n.name, "link", "set", nsIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { ipCmd("link", "del", n.hostIf) })
	return n
}

// TestClusterNetnsPartition: one worker runs in its own network namespace.
// Bringing its link down partitions it: the master finds it lost by its
// missing heartbeats and gives its share to the other worker; the
// partitioned worker, hearing nothing from its master, stops its load and
// exits within 10 s.
func TestClusterNetnsPartition(t *testing.T) {
	ns := newNetns(t)
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	lis, err := net.Listen("tcp", ns.hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = lis
	srv.Start()
	t.Cleanup(srv.Close)
	m := start(t, "master", "master", "--listen", ns.hostIP+":0", "--no-save", "--token", "tok", "--expect-workers", "2", "--quiet",
		"--url", srv.URL, "--rate", "100", "-d", "8s")
	addr := m.waitLine(t, `listening on (\S+) for`, 30*time.Second)[1]
	inNS := startIn(t, "worker-ns", []string{"ip", "netns", "exec", ns.name}, "worker", "--master", addr, "--token", "tok", "--name", "wns")
	m.waitLine(t, `worker wns is ready`, 30*time.Second)
	host := start(t, "worker-host", "worker", "--master", addr, "--token", "tok", "--name", "whost")
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(2 * time.Second)
	if err := ipCmd("link", "set", ns.hostIf, "down"); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	m.waitLine(t, `worker wns lost at .*no heartbeat for .*went to whost`, 6*time.Second)
	if d := time.Since(cut); d > 4*time.Second {
		t.Errorf("the partition was noticed after %s, want about 3s", d)
	}
	inNS.wait(t, 12*time.Second)
	if d := inNS.exited.Sub(cut); d > 10*time.Second || !strings.Contains(inNS.stderr(), "lost the master") {
		t.Errorf("the partitioned worker exited %s after the cut, want within 10s, saying it lost the master", d)
	}
	if code := m.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	host.wait(t, 10*time.Second)
	// whost's own share is 400; it also ran what was left of wns's after ~5 s
	if r, _ := workerCounts(t, host); r < 500 {
		t.Errorf("whost made %d requests; want its 400 and wns's remaining share", r)
	}
	t.Logf("partition noticed, partitioned worker stopped %s after the cut; %d requests served", inNS.exited.Sub(cut).Truncate(100*time.Millisecond), hits.Load())
}

func TestClusterWorkerNoMaster(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), &stdout, &stderr, []string{"worker", "--master", "127.0.0.1:1", "--token", "t", "--connect-timeout", "300ms"})
	if code != ExitError || !strings.Contains(stderr.String(), "surge worker: reaching the master 127.0.0.1:1") ||
		!strings.Contains(stderr.String(), "gave up after 300ms") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// lifecycleServer counts what a script's setup, iterations and teardown
// send: setup calls, work requests (and those carrying setup's data), and
// teardown calls (and the work requests served before the first one).
type lifecycleServer struct {
	*httptest.Server
	setups, work, good, teardowns, goodTeardowns, workAtTeardown atomic.Int64
}

func newLifecycleServer(t *testing.T) *lifecycleServer {
	s := &lifecycleServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/setup":
			s.setups.Add(1)
		case "/work":
			s.work.Add(1)
			if r.Header.Get("X-Token") == "abc" && r.URL.Query().Get("n") == "42" {
				s.good.Add(1)
			}
		case "/teardown":
			if s.teardowns.Add(1) == 1 {
				s.workAtTeardown.Store(s.work.Load())
			}
			var data struct {
				Token string
				N     int
			}
			if json.NewDecoder(r.Body).Decode(&data) == nil && data.Token == "abc" && data.N == 42 {
				s.goodTeardowns.Add(1)
			}
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestClusterSetupTeardownHandleSummary: with a master and two workers,
// setup() runs once (on the master) and every iteration on every worker
// gets its data; teardown(data) runs once, after all the load;
// handleSummary() runs on the master with the merged summary and takes
// the place of the text summary. setup()'s and teardown()'s requests count in the merged
// http_reqs, as in a local run.
func TestClusterSetupTeardownHandleSummary(t *testing.T) {
	srv := newLifecycleServer(t)
	handled := filepath.Join(t.TempDir(), "handled.txt")
	export := filepath.Join(t.TempDir(), "summary.json")
	src := fmt.Sprintf(`import http from 'k6/http';
const base = %q;
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 4, iterations: 40, maxDuration: '20s' } } };
export function setup() { http.get(base + '/setup'); return { token: 'abc', n: 42 }; }
export default function (data) { http.get(base + '/work?n=' + data.n, { headers: { 'X-Token': data.token } }); }
export function teardown(data) { http.post(base + '/teardown', JSON.stringify(data)); }
export function handleSummary(data) {
  const line = 'iterations=' + data.metrics.iterations.values.count + ' reqs=' + data.metrics.http_reqs.values.count + '\n';
  return { stdout: 'handled: ' + line, %q: line };
}
`, srv.URL, handled)
	m, ws, _ := startCluster(t, 2, writeTestScript(t, "test.js", src), "--summary-export", export)
	if code := m.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	for _, w := range ws {
		if code := w.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("%s exit code %d", w.name, code)
		}
		if strings.Contains(w.stdout(), "handled:") {
			t.Errorf("%s ran handleSummary:\n%s", w.name, w.stdout())
		}
	}
	if n := srv.setups.Load(); n != 1 {
		t.Errorf("setup() ran %d times, want once in all", n)
	}
	if work, good := srv.work.Load(), srv.good.Load(); work != 40 || good != 40 {
		t.Errorf("%d work requests, %d with setup()'s token and n; want 40 and 40", work, good)
	}
	if n, good, at := srv.teardowns.Load(), srv.goodTeardowns.Load(), srv.workAtTeardown.Load(); n != 1 || good != 1 || at != 40 {
		t.Errorf("teardown ran %d times (%d with setup()'s data), first after %d of 40 requests; want once, with the data, after all", n, good, at)
	}
	b, err := os.ReadFile(handled)
	if want := "iterations=40 reqs=42\n"; err != nil || string(b) != want {
		t.Errorf("handleSummary's file: %q, %v; want %q (the merged summary)", b, err, want)
	}
	if out := m.stdout(); !strings.Contains(out, "handled: iterations=40 reqs=42") || strings.Contains(out, "WORKERS") {
		t.Errorf("the master's stdout should hold handleSummary's output instead of the text summary:\n%s", out)
	}
	if n := readSummary(t, export).value("http_reqs", "count"); n != 42 {
		t.Errorf("merged http_reqs %v, want 42 (40 iterations and setup's and teardown's requests)", n)
	}
}

// TestClusterSetupThrows: a setup() that throws ends the run on the
// master with the script error code before any load; the workers are
// told to stop and exit, and teardown() does not run.
func TestClusterSetupThrows(t *testing.T) {
	srv := newLifecycleServer(t)
	src := fmt.Sprintf(`import http from 'k6/http';
const base = %q;
export function setup() { http.get(base + '/setup'); throw new Error('no token for you'); }
export default function (data) { http.get(base + '/work'); }
export function teardown(data) { http.post(base + '/teardown', '{}'); }
`, srv.URL)
	m, ws, _ := startCluster(t, 2, writeTestScript(t, "test.js", src))
	if code := m.wait(t, 60*time.Second); code != ExitScript {
		t.Errorf("master exit code %d, want %d", code, ExitScript)
	}
	want := regexp.MustCompile(`(?m)^surge master: distributed run: setup\(\) failed on the master, the workers were told to stop: .*test\.js: setup: Error: no token for you \(at .*test\.js:3\)`)
	if !want.MatchString(m.stderr()) {
		t.Errorf("master stderr lacks the one-line setup error:\n%s", m.stderr())
	}
	for _, w := range ws {
		w.wait(t, 10*time.Second)
		if !strings.Contains(w.stderr(), "the master says stop: setup() failed on the master") {
			t.Errorf("%s was not told why the run ended:\n%s", w.name, w.stderr())
		}
	}
	if s, work, td := srv.setups.Load(), srv.work.Load(), srv.teardowns.Load(); s != 1 || work != 0 || td != 0 {
		t.Errorf("setup %d, work %d, teardown %d; want 1, 0, 0", s, work, td)
	}
}

// TestClusterScriptErrorBeforeWorkers: a script that does not compile is
// found by the master before any worker connects (exit 107).
func TestClusterScriptErrorBeforeWorkers(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), &stdout, &stderr, []string{"master", "--token", "t", "--listen", "127.0.0.1:0", "--no-save", writeTestScript(t, "test.js", "export default function ( {\n")})
	if code != ExitScript || !strings.Contains(stderr.String(), "test.js:2:1: ") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want %d and one line with the script position", code, stderr.String(), ExitScript)
	}
}

// TestClusterInterruptedTeardown: Ctrl-C on the master stops the workers,
// and teardown(data) still runs once on the master, after their load.
func TestClusterInterruptedTeardown(t *testing.T) {
	srv := newLifecycleServer(t)
	src := fmt.Sprintf(`import http from 'k6/http';
import { sleep } from 'k6';
const base = %q;
export const options = { vus: 2, duration: '60s' };
export function setup() { http.get(base + '/setup'); return { token: 'abc', n: 42 }; }
export default function (data) { http.get(base + '/work?n=' + data.n, { headers: { 'X-Token': data.token } }); sleep(0.05); }
export function teardown(data) { http.post(base + '/teardown', JSON.stringify(data)); }
`, srv.URL)
	m, ws, _ := startCluster(t, 2, writeTestScript(t, "test.js", src))
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(time.Second)
	m.cmd.Process.Signal(os.Interrupt)
	if code := m.wait(t, 15*time.Second); code != ExitInterruptedRun {
		t.Errorf("master exit code %d, want %d", code, ExitInterruptedRun)
	}
	for _, w := range ws {
		w.wait(t, 5*time.Second)
	}
	work := srv.work.Load()
	if n, good, at := srv.teardowns.Load(), srv.goodTeardowns.Load(), srv.workAtTeardown.Load(); n != 1 || good != 1 || at != work || work == 0 {
		t.Errorf("teardown ran %d times (%d with setup()'s data), after %d of %d requests; want once, with the data, after the load", n, good, at, work)
	}
	if s, good := srv.setups.Load(), srv.good.Load(); s != 1 || good != work {
		t.Errorf("setup ran %d times; %d of %d requests carried its data", s, good, work)
	}
}

// TestClusterScriptWarmupRefused: a master whose script lasts a fixed 1s
// refuses a --warmup of 5s before any worker joins, as surge run does.
func TestClusterScriptWarmupRefused(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := writeTestScript(t, "short.js", "export const options = { vus: 1, duration: '1s' };\nexport default function () {}\n")
	code := Main(context.Background(), &stdout, &stderr, []string{"master", "--token", "t", "--listen", "127.0.0.1:0", "--no-save", "--warmup", "5s", path})
	if code != ExitUsage || !strings.Contains(stderr.String(), "--warmup 5s is not shorter than the test (1s)") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want %d and one line about the warm-up", code, stderr.String(), ExitUsage)
	}
}
