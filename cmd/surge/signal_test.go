package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalHelper is not a test: the signal tests run the test binary again
// with SURGE_SIGNAL_HELPER=1, and this runs surge's real main in that child.
func TestSignalHelper(t *testing.T) {
	if os.Getenv("SURGE_SIGNAL_HELPER") != "1" {
		t.Skip("helper process for the signal tests")
	}
	os.Args = append([]string{"surge"}, strings.Fields(os.Getenv("SURGE_SIGNAL_ARGS"))...)
	main()
}

func startSurge(t *testing.T, args string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalHelper$")
	cmd.Env = append(os.Environ(), "SURGE_SIGNAL_HELPER=1", "SURGE_SIGNAL_ARGS="+args)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestCtrlCStopsGracefully: one SIGINT ends a 60 s run, against a server
// that never answers, within moments: requests in flight are cut off (and
// counted as interrupted), the full summary and the export are written, and
// the exit code is 105. (A second SIGINT exits 130 at once; main's handler
// is two lines and has no test of its own.)
func TestCtrlCStopsGracefully(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	hang := newHangingServer(t, block)
	export := t.TempDir() + "/s.json"
	cmd, out, errb := startSurge(t, "run --url "+hang+" -u 2 -d 60s --no-save --summary-export "+export)
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if c := exitCode(err); c != ExitInterruptedRun {
			t.Errorf("exit %d, want %d\nstderr %s", c, ExitInterruptedRun, errb)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no exit 20 s after Ctrl-C")
	}
	if !strings.Contains(out.String(), "stopped before its end") || !strings.Contains(errb.String(), "stopping gracefully") {
		t.Errorf("stdout %q\nstderr %q", out, errb)
	}
	if fi, err := os.Stat(export); err != nil || fi.Size() == 0 {
		t.Errorf("summary export not written: %v", err)
	}
}
