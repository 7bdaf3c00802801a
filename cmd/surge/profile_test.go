package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	httppprof "net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// profileHotBin builds the profiler's test program, which spends its CPU
// in main.hot for as long as its first argument says.
func profileHotBin(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../../internal/profile/testdata/hot/main.go")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hot")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// profileStartHot starts the hot program and waits for its "ready" line.
func profileStartHot(t *testing.T, bin, d string) int {
	t.Helper()
	cmd := exec.Command(bin, d)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("hot program: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

func profileRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), &out, &errb, args)
	return code, out.String(), errb.String()
}

func TestProfileRecordPIDThenLines(t *testing.T) {
	bin := profileHotBin(t)
	pid := profileStartHot(t, bin, "30s")
	dir := t.TempDir()
	pb := filepath.Join(dir, "cpu.pb.gz")
	code, _, stderr := profileRun(t, "profile", "record", "--pid", strconv.Itoa(pid), "--rate", "499", "--duration", "1s", "-o", pb)
	if code != 0 {
		t.Fatalf("record exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "wrote "+pb+" (pprof,") {
		t.Errorf("stderr = %q", stderr)
	}
	code, stdout, stderr := profileRun(t, "profile", "lines", pb, "--function", `^main\.hot$`)
	if code != 0 {
		t.Fatalf("lines exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "main.hot  total") {
		t.Fatalf("lines output:\n%s", stdout)
	}
	if !strings.Contains(lines[2], "x*6364136223846793005") && !strings.Contains(lines[2], "x ^= x >> 29") {
		t.Fatalf("hottest line is not in the loop body:\n%s", stdout)
	}
	for _, format := range []string{"flamegraph", "collapsed", "speedscope"} {
		code, _, stderr := profileRun(t, "profile", "record", "--pid", strconv.Itoa(pid), "--duration", "300ms", "--format", format, "-o", filepath.Join(dir, "out."+format))
		if code != 0 {
			t.Fatalf("record --format %s: exit %d: %s", format, code, stderr)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "out."+format))
		if !bytes.Contains(b, []byte("main.hot")) {
			t.Errorf("%s output lacks main.hot", format)
		}
	}
}

func TestProfileRecordCommandThatExits(t *testing.T) {
	bin := profileHotBin(t)
	out := filepath.Join(t.TempDir(), "cpu.folded")
	start := time.Now()
	code, _, stderr := profileRun(t, "profile", "record", "--rate", "499", "-o", out, "--", bin, "800ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("record kept going %v after the command exited", time.Since(start))
	}
	if !strings.Contains(stderr, "exited after") {
		t.Errorf("stderr does not report the exit: %q", stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(b, []byte("main.hot ")) {
		t.Fatalf("collapsed output lacks main.hot: %v\n%s", err, b)
	}
}

func TestProfileTopPrintsSnapshotsWithoutTTY(t *testing.T) {
	bin := profileHotBin(t)
	pid := profileStartHot(t, bin, "30s")
	code, stdout, stderr := profileRun(t, "profile", "top", "--pid", strconv.Itoa(pid), "--duration", "1200ms", "--interval", "400ms", "-n", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, "\n--- ") + btoi(strings.HasPrefix(stdout, "--- ")); n < 2 {
		t.Errorf("want at least 2 snapshots, got %d:\n%s", n, stdout)
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Error("escape codes written to a non-terminal")
	}
	if !strings.Contains(stdout, "main.hot") || !regexp.MustCompile(`samples in the last interval, [0-9.]+ CPUs busy\n`).MatchString(stdout) {
		t.Errorf("top lacks main.hot or the CPU use:\n%s", stdout)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestProfileDumpShowsEveryThread(t *testing.T) {
	bin := profileHotBin(t)
	pid := profileStartHot(t, bin, "30s")
	code, stdout, stderr := profileRun(t, "profile", "dump", "--pid", strconv.Itoa(pid))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if n := strings.Count(stdout, "\nThread "); n < len(ents)-1 || n == 0 {
		t.Errorf("dump shows %d threads, process has %d:\n%s", n, len(ents), stdout)
	}
	if !strings.Contains(stdout, "runtime.") {
		t.Errorf("dump has no Go runtime frames:\n%s", stdout)
	}
	// The process keeps running after the dump.
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err != nil || strings.Contains(string(b), ") T ") {
		t.Errorf("process stopped or gone after dump: %v %s", err, b)
	}
}

func TestProfileDiffWritesGraphAndTable(t *testing.T) {
	bin := profileHotBin(t)
	pid := profileStartHot(t, bin, "30s")
	dir := t.TempDir()
	for _, name := range []string{"a.pb.gz", "b.pb.gz"} {
		if code, _, stderr := profileRun(t, "profile", "record", "--pid", strconv.Itoa(pid), "--duration", "400ms", "-o", filepath.Join(dir, name)); code != 0 {
			t.Fatalf("record: %s", stderr)
		}
	}
	html := filepath.Join(dir, "d.html")
	code, stdout, stderr := profileRun(t, "profile", "diff", filepath.Join(dir, "a.pb.gz"), filepath.Join(dir, "b.pb.gz"), "-o", html)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sentence := regexp.MustCompile(`^[0-9.]+% of CPU is in \S+(, (up from [0-9.]+%|down from [0-9.]+%|unchanged))\n`)
	if !sentence.MatchString(stdout) || !strings.Contains(stdout, "base%    new%   change  function") || !strings.Contains(stdout, "main.hot") {
		t.Errorf("diff output:\n%s", stdout)
	}
	if b, err := os.ReadFile(html); err != nil || !bytes.Contains(b, []byte(`"diff":true`)) {
		t.Errorf("diff graph: %v", err)
	}
}

func TestProfileMemTimeline(t *testing.T) {
	bin := profileHotBin(t)
	pid := profileStartHot(t, bin, "30s")
	code, stdout, stderr := profileRun(t, "profile", "mem", "--pid", strconv.Itoa(pid), "--duration", "350ms", "--interval", "100ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "rss") || !strings.Contains(lines[1], "MiB") {
		t.Fatalf("mem output:\n%s", stdout)
	}
}

func TestProfileURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	base := srv.URL + "/debug/pprof"
	for _, tc := range []struct {
		args []string
		file string
		want string
	}{
		{[]string{"record", "--url", base, "--duration", "1s", "-o", filepath.Join(dir, "cpu.pb.gz")}, "cpu.pb.gz", ""},
		{[]string{"record", "--url", base, "--kind", "goroutine", "-o", filepath.Join(dir, "g.folded")}, "g.folded", "runtime"},
		{[]string{"mem", "--url", base, "-o", filepath.Join(dir, "heap.html")}, "heap.html", "inuse_space"},
		{[]string{"record", "--url", base, "--kind", "heap", "--sample-type", "alloc_space", "-o", filepath.Join(dir, "alloc.html")}, "alloc.html", "alloc_space flame graph"},
	} {
		code, _, stderr := profileRun(t, append([]string{"profile"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil || !bytes.Contains(b, []byte(tc.want)) {
			t.Errorf("%v: %s lacks %q (%v)", tc.args, tc.file, tc.want, err)
		}
	}
}

func TestProfileTopURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	stop := make(chan struct{})
	defer close(stop)
	go profileSpin(stop)
	code, stdout, stderr := profileRun(t, "profile", "top", "--url", srv.URL+"/debug/pprof", "--duration", "2500ms", "--interval", "1s", "-n", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Count(stdout, "--- ") < 2 || !strings.Contains(stdout, "profileSpin") {
		t.Fatalf("top --url output:\n%s", stdout)
	}
}

//go:noinline
func profileSpin(stop <-chan struct{}) {
	x := 1
	for {
		for i := 0; i < 100000; i++ {
			x = x*31 + i
		}
		select {
		case <-stop:
			return
		default:
		}
	}
}

func TestProfileErrors(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String() + "/debug/pprof"
	l.Close()
	bad := filepath.Join(t.TempDir(), "bad.pb.gz")
	os.WriteFile(bad, []byte("not a profile"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "missing subcommand"},
		{[]string{"flame"}, 2, `unknown subcommand "flame"`},
		{[]string{"record"}, 2, "give --pid PID, --url URL or -- CMD ARGS"},
		{[]string{"record", "--pid", "1", "--url", "http://x"}, 2, "only one of"},
		{[]string{"record", "--pid", "1", "--rate", "0"}, 2, "--rate 0"},
		{[]string{"record", "--pid", "1", "--format", "svg"}, 2, `--format "svg"`},
		{[]string{"record", "--pid", "1", "--kind", "heap"}, 2, "--kind heap needs --url"},
		{[]string{"record", "--pid", "999999999"}, 1, "no process with pid 999999999"},
		{[]string{"record", "--url", dead, "--duration", "1s"}, 1, "connection refused"},
		{[]string{"record", "--", "/nonexistent/cmd"}, 1, "starting /nonexistent/cmd"},
		{[]string{"lines", bad, "--function", "x"}, 1, "want a pprof file"},
		{[]string{"lines", bad}, 2, "--function REGEX is required"},
		{[]string{"lines", bad, "--function", "("}, 2, "--function"},
		{[]string{"diff", bad}, 2, "want two profiles"},
		{[]string{"dump"}, 2, "give --pid PID"},
		{[]string{"mem"}, 2, "give one of --pid PID and --url URL"},
		{[]string{"top", "--pid", "1", "--interval", "1ms"}, 2, "--interval 1ms"},
	} {
		code, _, stderr := profileRun(t, append([]string{"profile"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("profile %v: exit %d, stderr %q; want exit %d and one line containing %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestProfileNotPermitted runs the CLI as an unprivileged user: profiling
// a root process is refused with one line naming the setting, and
// profiling the user's own process works (user-space only, as
// perf_event_paranoid=2 allows).
func TestProfileNotPermitted(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	// Build into a directory the nobody user can read and write.
	dir, err := os.MkdirTemp("", "surge-perm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "surge")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	asNobody := func(args ...string) *exec.Cmd {
		return exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, args...)...)
	}
	out, err := asNobody(bin, "profile", "record", "--pid", strconv.Itoa(os.Getpid()), "--duration", "100ms", "-o", filepath.Join(dir, "x")).CombinedOutput()
	if err == nil {
		t.Fatalf("profiling a root process as nobody succeeded:\n%s", out)
	}
	msg := string(out)
	if !strings.Contains(msg, "kernel.perf_event_paranoid") || !strings.Contains(msg, "CAP_PERFMON") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("want one line naming perf_event_paranoid and CAP_PERFMON, got:\n%s", msg)
	}

	paranoid, _ := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if p, _ := strconv.Atoi(strings.TrimSpace(string(paranoid))); p > 2 {
		t.Skipf("perf_event_paranoid is %d: unprivileged users cannot profile at all", p)
	}
	hot := profileHotBin(t)
	own := filepath.Join(dir, "hot")
	if b, err := os.ReadFile(hot); err != nil || os.WriteFile(own, b, 0o755) != nil {
		t.Fatal("copying the hot program", err)
	}
	folded := filepath.Join(dir, "own.folded")
	out, err = asNobody(bin, "profile", "record", "--duration", "2s", "-o", folded, "--", own, "700ms").CombinedOutput()
	if err != nil {
		t.Fatalf("nobody profiling its own process: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(folded); !bytes.Contains(b, []byte("main.hot ")) {
		t.Fatalf("own-process profile lacks main.hot:\n%s\n%s", b, out)
	}
}

// openPTY returns a pseudo-terminal pair, for commands that behave
// differently on a terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

func TestProfileTopRedrawsOnTTY(t *testing.T) {
	bin := profileHotBin(t)
	pid := profileStartHot(t, bin, "30s")
	master, tty := openPTY(t)
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&screen, master) // ends with EIO when the tty side closes
		close(done)
	}()
	var errb bytes.Buffer
	code := Main(context.Background(), tty, &errb, []string{"profile", "top", "--pid", strconv.Itoa(pid), "--duration", "1100ms", "--interval", "500ms", "-n", "3"})
	tty.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("terminal output did not end")
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	out := screen.String()
	if n := strings.Count(out, "\x1b[H\x1b[2J"); n < 2 || !strings.Contains(out, "main.hot") {
		t.Fatalf("want >= 2 screen redraws showing main.hot, got %d:\n%q", n, out)
	}
}
