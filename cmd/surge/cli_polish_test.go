package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGRPCHelpOnlyGRPCFlags: surge grpc lists and accepts only the flags
// that mean something to a gRPC call, with their gRPC meanings.
func TestGRPCHelpOnlyGRPCFlags(t *testing.T) {
	code, stdout, stderr := runCLI(t, context.Background(), "grpc", "--help")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, bad := range []string{"\n  -X ", "\n  -body ", "\n  -body-file ", "\n  -url ", "\n  -h2c", "\n  -no-http2",
		"\n  -keep-response-bodies", "\n  -name ", "\n  -include-tag", "\n  -exclude-tag", "request body for --url",
		`(default "GET")`, "HTTP method"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("surge grpc --help shows %q:\n%s", strings.TrimSpace(bad), stdout)
		}
	}
	for _, want := range []string{"-method string\n    \tthe method to call, pkg.Service/Method (required)",
		"-header value\n    \trequest metadata", "-timeout duration\n    \tdeadline of each call", "grpc_req_duration: p(95)<500",
		"\n  -data ", "\n  -plaintext", "\n  -vus ", "\n  -threshold ", "\n  -no-color", "\n  -report ", "\n  -insecure-skip-tls-verify"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("surge grpc --help lacks %q:\n%s", want, stdout)
		}
	}
	// The HTTP flags are refused, in one line that says what to use.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--body", "{}"}, "--body is a flag of surge run (HTTP) and has no meaning here: the request is --data JSON"},
		{[]string{"-X", "POST"}, "-X is a flag of surge run (HTTP) and has no meaning here: --method names the RPC"},
		{[]string{"--url", "http://127.0.0.1:1/"}, "--url is a flag of surge run (HTTP) and has no meaning here: surge grpc takes ADDR"},
		{[]string{"--h2c"}, "--h2c is a flag of surge run (HTTP)"},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
	} {
		args := append([]string{"grpc", "127.0.0.1:1", "--plaintext", "--method", "a.B/C", "-i", "1", "--no-save"}, tc.args...)
		code, stdout, stderr := runCLI(t, context.Background(), args...)
		if code != ExitUsage || stdout != "" || !strings.HasPrefix(stderr, "surge grpc: ") || !strings.Contains(stderr, tc.want) ||
			strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stdout %q stderr %q, want %d and one line with %q", tc.args, code, stdout, stderr, ExitUsage, tc.want)
		}
	}
	// surge run keeps its HTTP flags.
	code, stdout, _ = runCLI(t, context.Background(), "run", "--help")
	if code != ExitOK || !strings.Contains(stdout, "\n  -X string\n") || !strings.Contains(stdout, "request body for --url") {
		t.Errorf("surge run --help lost its HTTP flags (exit %d):\n%s", code, stdout)
	}
}

// TestRunHelpMentionsGRPC: surge run --help tells of --grpc ADDR, which run
// hands to surge grpc.
func TestRunHelpMentionsGRPC(t *testing.T) {
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--help")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "\n  -grpc ADDR\n") || !strings.Contains(stdout, "surge grpc ADDR") {
		t.Errorf("surge run --help does not mention --grpc ADDR:\n%s", stdout)
	}
}

// savedRun runs a short quick test against a local server and saves it.
func savedRun(t *testing.T, path string) {
	t.Helper()
	srv := okServer(t)
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL+"/items", "-i", "3", "-q", "--save", path)
	if code != ExitOK {
		t.Fatalf("run exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestCompareFailOnCheckedFirst: a --fail-on rule the comparison cannot
// have is one line on stderr and exit 2, with nothing on stdout.
func TestCompareFailOnCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "a.json.gz")
	savedRun(t, saved)
	missing := filepath.Join(dir, "none.json.gz")
	tests := []struct {
		name       string
		base, next string
		rule       string
		want       string
	}{
		{"unknown statistic", saved, saved, "http_req_duration:p(97)>+10%", `--fail-on "http_req_duration:p(97)>+10%": no such metric and statistic`},
		{"unknown metric", saved, saved, "http_req_latency:p(95)>+10%", "want one of http_req_duration:avg"},
		{"per-name statistic", saved, saved, "http_req_duration{name:/x}:avg>+10%", "http_req_duration{name:NAME}:p(95)"},
		{"checked before loading", missing, missing, "http_req_duration:p(97)>+10%", "no such metric and statistic"},
		{"name not in the runs", saved, saved, "http_req_duration{name:/nope}:p(95)>+10%", "the request name must be in both runs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, context.Background(), "compare", tc.base, tc.next,
				"--fail-on", "http_req_duration:p(95)>+10%", "--fail-on", tc.rule)
			if code != ExitUsage || stdout != "" {
				t.Errorf("exit %d, want %d, and stdout %q, want nothing", code, ExitUsage, stdout)
			}
			if !strings.HasPrefix(stderr, "surge compare: ") || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", stderr, tc.want)
			}
		})
	}
	// Good rules, including a request name of the runs, still compare.
	srvName := ""
	code, stdout, _ := runCLI(t, context.Background(), "compare", saved, saved)
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "http_req_duration{name:") {
			srvName = strings.Fields(line)[0]
		}
	}
	if code != ExitOK || srvName == "" {
		t.Fatalf("compare exit %d, no per-name row:\n%s", code, stdout)
	}
	code, stdout, stderr := runCLI(t, context.Background(), "compare", saved, saved,
		"--fail-on", "http_reqs:rate<-5%", "--fail-on", srvName+":p(95)>+10%")
	if code != ExitOK || !strings.Contains(stdout, "http_req_duration p(95)") || stderr != "" {
		t.Errorf("good rules: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// TestReportCreatesDirectory: --report creates the directory of its file,
// as --save does, in surge run, surge demo and surge report --html.
func TestReportCreatesDirectory(t *testing.T) {
	dir := t.TempDir()
	srv := okServer(t)
	runReport := filepath.Join(dir, "run", "does", "not", "exist", "r.html")
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-i", "1", "-q", "--no-summary",
		"--save", filepath.Join(dir, "saved.json.gz"), "--report", runReport)
	if code != ExitOK {
		t.Fatalf("run exit %d\n%s\n%s", code, stdout, stderr)
	}
	demoReport := filepath.Join(dir, "demo", "new", "r.html")
	code, stdout, stderr = runCLI(t, context.Background(), "demo", "-d", "1s", "-u", "1", "--flaky", "0", "--slow", "1ms",
		"--no-save", "--report", demoReport)
	if code != ExitOK && code != ExitThresholdsFailed { // a request cut at the end of 1s may fail a threshold
		t.Fatalf("demo exit %d\n%s\n%s", code, stdout, stderr)
	}
	htmlReport := filepath.Join(dir, "report", "new", "r.html")
	code, stdout, stderr = runCLI(t, context.Background(), "report", filepath.Join(dir, "saved.json.gz"), "--html", htmlReport)
	if code != ExitOK {
		t.Fatalf("report exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, p := range []string{runReport, demoReport, htmlReport} {
		b, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
			t.Errorf("%s: %v %.40q", p, err, b)
		}
	}
	// A directory that cannot be made is still one error line, exit 1.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, args := range [][]string{
		{"run", "--url", srv.URL, "-i", "1", "-q", "--no-summary", "--no-save", "--report", filepath.Join(file, "r.html")},
		{"demo", "-d", "1s", "-u", "1", "--flaky", "0", "--no-save", "--report", filepath.Join(file, "r.html")},
	} {
		code, _, stderr := runCLI(t, context.Background(), args...)
		if code != ExitError || !strings.Contains(stderr, "writing report: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s under a file: exit %d stderr %q", args[0], code, stderr)
		}
	}
}

// TestNoColorFlag: surge demo and surge report take --no-color as surge
// run does.
func TestNoColorFlag(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	dir := t.TempDir()
	saved := filepath.Join(dir, "a.json.gz")
	savedRun(t, saved)
	for _, args := range [][]string{
		{"report", saved, "--no-color"},
		{"demo", "-d", "1s", "-u", "1", "--flaky", "0", "--slow", "1ms", "--no-save", "--no-color"},
	} {
		code, stdout, stderr := runCLI(t, context.Background(), args...)
		if (code != ExitOK && code != ExitThresholdsFailed) || strings.Contains(stdout, "\x1b[") {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %s", args, code, stdout, stderr)
		}
	}
	// On a terminal, surge report colors unless --no-color (or NO_COLOR).
	if out := reportOnTerminal(t, saved); !strings.Contains(out, "\x1b[") {
		t.Errorf("surge report on a terminal has no colors:\n%q", out)
	}
	if out := reportOnTerminal(t, saved, "--no-color"); strings.Contains(out, "\x1b[") {
		t.Errorf("surge report --no-color on a terminal has colors:\n%q", out)
	}
	t.Setenv("NO_COLOR", "1")
	if out := reportOnTerminal(t, saved); strings.Contains(out, "\x1b[") {
		t.Errorf("surge report with NO_COLOR on a terminal has colors:\n%q", out)
	}
}

// reportOnTerminal runs surge report with a pseudo-terminal as stdout and
// returns what it printed.
func reportOnTerminal(t *testing.T, saved string, flags ...string) string {
	t.Helper()
	master, slave := openPTY(t) // profile_test.go
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&out, master) // ends with EIO once the slave is closed
		close(done)
	}()
	var errb bytes.Buffer
	code := Main(context.Background(), slave, &errb, append([]string{"report", saved}, flags...))
	slave.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("terminal output did not end")
	}
	if code != ExitOK {
		t.Fatalf("report exit %d, stderr %q", code, errb.String())
	}
	return out.String()
}
