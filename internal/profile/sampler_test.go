package profile

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRecordGoProgramAttributesHotFunction(t *testing.T) {
	bin := buildGo(t, "hot")
	cmd := startReady(t, bin, "30s")
	p := recordPID(t, cmd.Process.Pid, 499, 1500*time.Millisecond)
	share, n := shareOf(p, "main.hot")
	t.Logf("main.hot: %.1f%% of %d samples", 100*share, n)
	// The machine may be busy with other work: ask for a fraction of the
	// 750 samples a free CPU would give.
	if n < 50 {
		t.Fatalf("only %d samples in 1.5s at 499 Hz of a busy process", n)
	}
	if share < 0.80 {
		var buf bytes.Buffer
		WriteTop(&buf, p, 10)
		t.Fatalf("main.hot has %.1f%% of samples, want >= 80%%\n%s", 100*share, buf.String())
	}
	// main.hot is frameless: its caller comes back from the stack pointer.
	var col bytes.Buffer
	WriteCollapsed(&col, p, 0)
	if !strings.Contains(col.String(), "runtime.main;main.main;main.hot ") {
		t.Errorf("stacks lack runtime.main;main.main;main.hot:\n%s", firstLines(col.String(), 5))
	}
	// The per-line view puts the loop's multiply line first.
	fls := Lines(p, regexp.MustCompile(`^main\.hot$`), 0)
	if len(fls) != 1 || len(fls[0].Lines) == 0 {
		t.Fatalf("Lines(main.hot) = %+v", fls)
	}
	src := readSource(fls[0].File)
	first := fls[0].Lines[0].Line
	if first < 1 || int(first) > len(src) || !strings.Contains(src[first-1], "x*6364136223846793005") &&
		!strings.Contains(src[first-1], "x ^= x >> 29") {
		t.Fatalf("hottest line %d of %s is %q, want a line of the loop body", first, fls[0].File, src[max(first-1, 0)])
	}
}

func TestRecordCProgramNamesFunctions(t *testing.T) {
	bin := buildC(t, "cprog")
	cmd := startReady(t, bin, "30")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	share, n := shareOf(p, "c_leaf")
	if share < 0.8 {
		var buf bytes.Buffer
		WriteTop(&buf, p, 10)
		t.Fatalf("c_leaf has %.1f%% of %d samples, want >= 80%%\n%s", 100*share, n, buf.String())
	}
	var col bytes.Buffer
	if err := WriteCollapsed(&col, p, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(col.String(), "main;c_middle;c_leaf") {
		t.Fatalf("collapsed stacks lack main;c_middle;c_leaf:\n%s", firstLines(col.String(), 10))
	}
}

func TestRecordExitedProcessKeepsSamples(t *testing.T) {
	bin := buildGo(t, "hot")
	cmd := startReady(t, bin, "700ms")
	start := time.Now()
	p, err := Record(context.Background(), Target{PID: cmd.Process.Pid}, Options{Rate: 499}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Record ran %v after the process exited; it should stop", el)
	}
	share, n := shareOf(p, "main.hot")
	if n < 20 || share < 0.5 {
		t.Fatalf("profile of an exited process: %d samples, main.hot %.0f%%", n, 100*share)
	}
}

func TestStartErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Target
		o    Options
		want string
	}{
		{"no target", Target{}, Options{}, "needs a pid or a URL"},
		{"both", Target{PID: 1, URL: "http://x"}, Options{}, "both a pid and a URL"},
		{"no process", Target{PID: 1 << 30}, Options{}, "no process with pid"},
		{"rate", Target{PID: 1}, Options{Rate: MaxRate + 1}, "above the maximum"},
		{"bad url", Target{URL: "ftp://x"}, Options{}, "want http://host:port/debug/pprof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(context.Background(), tc.t, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start(%+v) = %v, want error containing %q", tc.t, err, tc.want)
			}
		})
	}
}

func TestPermissionErrorNamesTheSetting(t *testing.T) {
	err := permissionError(42, errors.New("permission denied"))
	msg := err.Error()
	for _, want := range []string{"kernel.perf_event_paranoid", "CAP_PERFMON", "sysctl"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if !errors.Is(err, ErrNotPermitted) || strings.Contains(msg, "\n") {
		t.Errorf("want one line wrapping ErrNotPermitted, got %q", msg)
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

func TestSubprocessesAreFollowed(t *testing.T) {
	bin := buildGo(t, "hot")
	// sh starts two busy children and waits; it burns no CPU itself.
	cmd := startReady(t, "/bin/sh", "-c", bin+" 30s & "+bin+" 30s & wait")
	root := cmd.Process.Pid
	for _, tc := range []struct {
		sub      bool
		wantPIDs int
	}{
		{false, 0},
		{true, 2},
	} {
		p, err := Record(context.Background(), Target{PID: root, Subprocesses: tc.sub}, Options{Rate: 199}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		pids := map[int64]bool{}
		for _, s := range p.Sample {
			for _, pid := range s.NumLabel["pid"] {
				if pid != int64(root) {
					pids[pid] = true
				}
			}
		}
		share, n := shareOf(p, "main.hot")
		if tc.sub {
			var col bytes.Buffer
			WriteCollapsed(&col, p, 0)
			if !strings.HasPrefix(col.String(), "[hot];") {
				t.Errorf("multi-process stacks do not start with the command:\n%s", firstLines(col.String(), 3))
			}
		}
		if len(pids) != tc.wantPIDs || (tc.sub && share < 0.8) || (!tc.sub && n > 5) {
			t.Errorf("subprocesses=%v: %d samples (main.hot %.0f%%) from %d child pids, want %d", tc.sub, n, 100*share, len(pids), tc.wantPIDs)
		}
	}
}

func TestNewThreadsAreFollowed(t *testing.T) {
	bin := buildC(t, "threads", "-pthread")
	cmd := startReady(t, bin, "30")
	// The process has one sleeping thread now; its busy threads start
	// 300 ms into the recording.
	p := recordPID(t, cmd.Process.Pid, 199, 1500*time.Millisecond)
	share, n := shareOf(p, "t_leaf")
	if n < 30 || share < 0.8 {
		t.Fatalf("t_leaf in threads created after the start: %.0f%% of %d samples; want most of >= 30", 100*share, n)
	}
}

func TestKernelStacks(t *testing.T) {
	bin := buildGo(t, "syscalls")
	cmd := startReady(t, bin, "30s")
	for _, kernel := range []bool{false, true} {
		p, err := Record(context.Background(), Target{PID: cmd.Process.Pid}, Options{Rate: 499, KernelStacks: kernel}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var col bytes.Buffer
		WriteCollapsed(&col, p, 0)
		text := col.String()
		if !strings.Contains(text, "main.readZero;") {
			t.Fatalf("kernel=%v: no stacks through main.readZero:\n%s", kernel, firstLines(text, 5))
		}
		hasK := strings.Contains(text, ";[k] ")
		if kernel != hasK {
			t.Errorf("kernel=%v: named kernel frames present = %v:\n%s", kernel, hasK, firstLines(text, 5))
		}
		if !kernel && !strings.Contains(text, ";[kernel] ") {
			t.Errorf("without kernel stacks, time in the kernel is not one [kernel] frame:\n%s", firstLines(text, 5))
		}
	}
}

func TestStartCommandSamplesShortLivedThreads(t *testing.T) {
	bin := buildC(t, "shortthreads", "-pthread")
	cmd := exec.Command(bin, "1.5")
	ss, err := StartCommand(context.Background(), cmd, false, Options{Rate: 499})
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-ss.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not exit")
	}
	p, err := ss.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("the command failed after being released: %v", err)
	}
	// Every thread lives 20 ms, less than the 100 ms thread rescan: only
	// inheritance sees them all. Compare with the CPU time the command
	// used (a per-thread scan gets about a tenth of it).
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	want := int64(0.7 * cpu.Seconds() * 499)
	share, n := shareOf(p, "short_work")
	if n < want || share < 0.8 {
		var b bytes.Buffer
		WriteTop(&b, p, 8)
		t.Fatalf("short_work has %.0f%% of %d samples; the command used %v of CPU, so want >= %d samples, mostly short_work:\n%s",
			100*share, n, cpu, want, b.String())
	}
}

func TestStartCommandErrors(t *testing.T) {
	if _, err := StartCommand(context.Background(), exec.Command("/nonexistent/prog"), false, Options{}); err == nil || !strings.Contains(err.Error(), "starting /nonexistent/prog") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartCommandNamesShortLivedChildren(t *testing.T) {
	bin := buildC(t, "cprog")
	// Forty children of 10 ms each, one after another: most exit before
	// the sampler's next 20 ms drain could read their /proc/PID/maps; the
	// kernel's mmap records name them.
	script := "i=0; while [ $i -lt 40 ]; do " + bin + " 0.01 >/dev/null; i=$((i+1)); done"
	cmd := exec.Command("/bin/sh", "-c", script)
	ss, err := StartCommand(context.Background(), cmd, true, Options{Rate: 999})
	if err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	select {
	case <-ss.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the script did not finish")
	}
	p, err := ss.Stop()
	if err != nil {
		t.Fatal(err)
	}
	// Process start-up (exec, the dynamic loader) takes a share of each
	// child's 10 ms; what matters is that the rest is named.
	share, n := shareOf(p, "c_leaf")
	unknown, _ := shareWhere(p, func(leaf string) bool { return strings.HasPrefix(leaf, "[unknown]") })
	if n < 50 || share < 0.5 || unknown > 0.05 {
		var b bytes.Buffer
		WriteTop(&b, p, 8)
		t.Fatalf("short-lived children: c_leaf %.0f%%, unnamed %.0f%% of %d samples; want >= 50%% and <= 5%%:\n%s", 100*share, 100*unknown, n, b.String())
	}
	var col bytes.Buffer
	WriteCollapsed(&col, p, 0)
	if !strings.Contains(col.String(), "[cprog];") {
		t.Errorf("children's stacks are not under their command [cprog]:\n%s", firstLines(col.String(), 5))
	}
}
