package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareFlagsSlowerDemo is the acceptance: two saved runs of the
// demo, the second with the slow endpoint made slower; surge compare flags
// the regression and exits non-zero with --fail-on.
func TestCompareFlagsSlowerDemo(t *testing.T) {
	dir := t.TempDir()
	base, slow := filepath.Join(dir, "base.json.gz"), filepath.Join(dir, "slow.json.gz")
	for _, run := range []struct{ path, delay string }{{base, "20ms"}, {slow, "60ms"}} {
		code, out, stderr := runCLI(t, context.Background(), "demo", "-d", "6s", "-u", "6", "--slow", run.delay, "--save", run.path)
		if code != 0 {
			t.Fatalf("demo exit %d\n%s\n%s", code, out, stderr)
		}
	}
	code, out, stderr := runCLI(t, context.Background(), "compare", base, slow, "--fail-on", "http_req_duration{name:/api/slow}:p(95)>+20%")
	if code != ExitError {
		t.Fatalf("compare exit %d, want %d\n%s\n%s", code, ExitError, out, stderr)
	}
	if !strings.Contains(out, "✗ regression: http_req_duration{name:/api/slow} p(95)") {
		t.Errorf("no regression line:\n%s", out)
	}
	// the same run against itself: nothing changes, exit 0
	code, out, _ = runCLI(t, context.Background(), "compare", base, base, "--fail-on", "http_req_duration:p(95)>+10%")
	if code != 0 || strings.Contains(out, "✗") {
		t.Errorf("self-compare exit %d:\n%s", code, out)
	}
	// and surge report renders a saved run
	code, out, _ = runCLI(t, context.Background(), "report", slow)
	if code != 0 || !strings.Contains(out, "/api/slow") || !strings.Contains(out, "THRESHOLDS") {
		t.Errorf("report exit %d:\n%s", code, out)
	}
}

func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.json.gz")
	os.WriteFile(junk, []byte("not gzip"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compare", junk}, ExitUsage, "want two saved results"},
		{[]string{"compare", junk, junk}, ExitError, "not a surge result file"},
		{[]string{"compare", filepath.Join(dir, "none"), junk}, ExitError, "no such file"},
		{[]string{"compare", junk, junk, "--fail-on", "p95 up"}, ExitUsage, "want METRIC:STAT>+N%"},
		{[]string{"report"}, ExitUsage, "want one saved result"},
	}
	for _, tc := range tests {
		code, _, stderr := runCLI(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
