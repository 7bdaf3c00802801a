package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// GoOptions configure a run of Go benchmarks.
type GoOptions struct {
	// Packages to benchmark ("." when empty).
	Packages []string
	// Bench is the -bench regular expression ("." when empty).
	Bench string
	// Count is -count: how many samples of each benchmark (10 when 0).
	Count int
	// Benchtime is passed as -benchtime when set (e.g. "100x", "200ms").
	Benchtime string
	// Dir is the directory go test runs in ("" for the current one).
	Dir string
	// Go is the go command ("go" when empty).
	Go string
	// Output, when set, receives go test's raw output as it arrives.
	Output io.Writer
}

// DefaultCount is the default -count: enough samples for the U test to
// find a difference at alpha 0.05 and for a 95% interval of the median.
const DefaultCount = 10

// GoArgs returns the go test arguments for opts.
func GoArgs(opts GoOptions) []string {
	bench, count, pkgs := opts.Bench, opts.Count, opts.Packages
	if bench == "" {
		bench = "."
	}
	if count <= 0 {
		count = DefaultCount
	}
	if len(pkgs) == 0 {
		pkgs = []string{"."}
	}
	args := []string{"test", "-run", "^$", "-bench", bench, "-benchmem", "-count", strconv.Itoa(count)}
	if opts.Benchtime != "" {
		args = append(args, "-benchtime", opts.Benchtime)
	}
	return append(args, pkgs...)
}

// RunGo runs `go test -run '^$' -bench … -benchmem` and parses its output
// with benchfmt. Lines that look like results but do not parse come back
// as LineErrors, the rest is used. It fails when go test fails (a build
// error, a failing benchmark) or when no benchmark matched.
func RunGo(ctx context.Context, opts GoOptions) (*Set, []LineError, error) {
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	args := GoArgs(opts)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = opts.Dir
	var out bytes.Buffer
	var w io.Writer = &out
	if opts.Output != nil {
		w = io.MultiWriter(&out, opts.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	set, bad, err := ParseGoBench(bytes.NewReader(out.Bytes()), "go test output", "current")
	if err != nil {
		return nil, nil, err
	}
	if runErr != nil {
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			return set, bad, fmt.Errorf("go %s exited with code %d: %s", strings.Join(args, " "), ee.ExitCode(), tail(out.String(), 5))
		}
		return set, bad, fmt.Errorf("running go test: %w", runErr)
	}
	if len(set.Series) == 0 {
		return set, bad, fmt.Errorf("no benchmarks matched -bench %q in %s", orDot(opts.Bench), strings.Join(orDots(opts.Packages), " "))
	}
	return set, bad, nil
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

func orDots(s []string) []string {
	if len(s) == 0 {
		return []string{"."}
	}
	return s
}

// tail returns the last n non-empty lines of s, joined by " | ".
func tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
