package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/surgeload/surge/internal/bench/stats"
)

// Defaults for RunOptions, as hyperfine's.
const (
	DefaultMinRuns = 10
	DefaultMinTime = 3 * time.Second
	DefaultShell   = "sh"
)

// RunOptions configure how commands are benchmarked.
type RunOptions struct {
	// Warmup runs of each command happen before any measured run and are
	// discarded.
	Warmup int
	// MinRuns is the least number of measured runs of each command
	// (DefaultMinRuns when 0); MaxRuns, when positive, the most.
	MinRuns, MaxRuns int
	// MinTime is how long measuring goes on at least, per command
	// (DefaultMinTime when 0), within MaxRuns.
	MinTime time.Duration
	// Prepare runs before every run (warm-up included): one line for all
	// commands, or one per command.
	Prepare []string
	// Setup runs once per command before its first run, Cleanup once
	// after its last; both take the command's parameter values.
	Setup, Cleanup string
	// Shell runs each line as `Shell -c LINE` (DefaultShell when empty);
	// NoShell splits the line into words and runs it directly.
	Shell   string
	NoShell bool
	// IgnoreFailure keeps going when a command exits non-zero; the exit
	// codes are kept in each Run.
	IgnoreFailure bool
	// Output receives the commands' stdout and stderr; nil discards them.
	Output io.Writer
	// Progress, when set, is called after each measured run.
	Progress func(c Command, done, round int)
}

// Run is one measured run of a command. Times are in seconds.
type Run struct {
	Wall     float64 `json:"wall"`
	User     float64 `json:"user"`
	Sys      float64 `json:"system"`
	MaxRSS   int64   `json:"max_rss_bytes"`
	ExitCode int     `json:"exit_code"`
}

// CommandResult is every measured run of one command.
type CommandResult struct {
	Command Command
	Runs    []Run
	// ShellOverhead is the shell's own start-up time, already subtracted
	// from each run's wall, user and system times (0 with NoShell).
	ShellOverhead Run `json:"shell_overhead"`
	// RSSFloor is surge's own peak RSS when the runs ended. Linux charges
	// a child with the memory of the process it was spawned from until it
	// calls exec, so no child reports a peak below this floor: a PeakRSS at
	// or under it means "at most this much".
	RSSFloor int64 `json:"rss_floor_bytes"`
}

// Wall returns the wall-clock times of the runs, in run order.
func (r CommandResult) Wall() []float64 { return r.field(func(x Run) float64 { return x.Wall }) }

// User returns the user CPU times of the runs.
func (r CommandResult) User() []float64 { return r.field(func(x Run) float64 { return x.User }) }

// Sys returns the system CPU times of the runs.
func (r CommandResult) Sys() []float64 { return r.field(func(x Run) float64 { return x.Sys }) }

// PeakRSS returns the largest resident set size of any run, in bytes.
func (r CommandResult) PeakRSS() int64 {
	var m int64
	for _, x := range r.Runs {
		m = max(m, x.MaxRSS)
	}
	return m
}

// Failed counts runs that exited non-zero.
func (r CommandResult) Failed() int {
	n := 0
	for _, x := range r.Runs {
		if x.ExitCode != 0 {
			n++
		}
	}
	return n
}

func (r CommandResult) field(f func(Run) float64) []float64 {
	out := make([]float64, len(r.Runs))
	for i, x := range r.Runs {
		out[i] = f(x)
	}
	return out
}

// Describe summarizes the wall-clock times.
func (r CommandResult) Describe() stats.Description { return stats.Describe(r.Wall()) }

// FailureError reports a command that exited non-zero.
type FailureError struct {
	What     string // "benchmark", "warm-up", "prepare", "setup", "cleanup"
	Line     string
	ExitCode int
}

func (e *FailureError) Error() string {
	return fmt.Sprintf("%s command %q exited with code %d; use -i/--ignore-failure to keep going", e.What, e.Line, e.ExitCode)
}

func (o RunOptions) withDefaults() RunOptions {
	if o.MinRuns <= 0 {
		o.MinRuns = DefaultMinRuns
	}
	if o.MinTime <= 0 {
		o.MinTime = DefaultMinTime
	}
	if o.Shell == "" {
		o.Shell = DefaultShell
	}
	return o
}

func (o RunOptions) validate(n int) error {
	if o.MaxRuns > 0 && o.MaxRuns < o.MinRuns {
		return fmt.Errorf("max runs %d is below min runs %d", o.MaxRuns, o.MinRuns)
	}
	if len(o.Prepare) > 1 && len(o.Prepare) != n {
		return fmt.Errorf("%d prepare commands for %d commands: give one for all or one per command", len(o.Prepare), n)
	}
	if n == 0 {
		return errors.New("no command to benchmark")
	}
	return nil
}

// RunCommands benchmarks cmds: setup, warm-up runs, then measured runs in
// interleaved rounds until every command has MinRuns runs and MinTime has
// passed per command (or MaxRuns is reached), then cleanup.
func RunCommands(ctx context.Context, cmds []Command, opts RunOptions) ([]CommandResult, error) {
	opts = opts.withDefaults()
	if err := opts.validate(len(cmds)); err != nil {
		return nil, err
	}
	r := &runner{opts: opts}
	if !opts.NoShell {
		ovh, err := r.shellOverhead(ctx)
		if err != nil {
			return nil, err
		}
		r.overhead = ovh
	}
	for _, c := range cmds {
		if err := r.aux(ctx, "setup", opts.Setup, c); err != nil {
			return nil, err
		}
	}
	results, err := r.measure(ctx, cmds)
	floor := selfPeakRSS()
	for i := range results {
		results[i].RSSFloor = floor
	}
	for _, c := range cmds {
		if cerr := r.aux(ctx, "cleanup", opts.Cleanup, c); cerr != nil && err == nil {
			err = cerr
		}
	}
	return results, err
}

type runner struct {
	opts     RunOptions
	overhead Run
}

// shellOverheadRuns is how many times the empty shell command is timed.
const shellOverheadRuns = 30

// shellOverhead measures the shell's start-up (`sh -c ”`), as hyperfine
// does, so it can be subtracted: without it a 20 ms command in a 1.6 ms
// shell looks 8% slower than it is and ratios shrink towards 1. The median
// of several runs resists the odd slow start.
func (r *runner) shellOverhead(ctx context.Context) (Run, error) {
	var runs []Run
	for range shellOverheadRuns {
		run, err := r.exec(ctx, "")
		if err != nil {
			return Run{}, fmt.Errorf("timing the shell %q: %w", r.opts.Shell, err)
		}
		if run.ExitCode != 0 {
			return Run{}, fmt.Errorf("timing the shell: %s -c '' exited with code %d", r.opts.Shell, run.ExitCode)
		}
		runs = append(runs, run)
	}
	med := func(f func(Run) float64) float64 {
		xs := make([]float64, len(runs))
		for i, x := range runs {
			xs[i] = f(x)
		}
		return stats.Describe(xs).Median
	}
	return Run{
		Wall: med(func(x Run) float64 { return x.Wall }),
		User: med(func(x Run) float64 { return x.User }),
		Sys:  med(func(x Run) float64 { return x.Sys }),
	}, nil
}

func (r *runner) measure(ctx context.Context, cmds []Command) ([]CommandResult, error) {
	for i, c := range cmds {
		for range r.opts.Warmup {
			if _, err := r.once(ctx, i, c, "warm-up"); err != nil {
				return nil, err
			}
		}
	}
	results := make([]CommandResult, len(cmds))
	var spent time.Duration
	for round := 0; !r.done(round, spent, len(cmds)); round++ {
		for _, i := range roundOrder(len(cmds), round) {
			c := cmds[i]
			run, err := r.once(ctx, i, c, "benchmark")
			if err != nil {
				return results, err
			}
			results[i].Command = c
			results[i].ShellOverhead = r.overhead
			results[i].Runs = append(results[i].Runs, run)
			spent += time.Duration(run.Wall * float64(time.Second))
			if r.opts.Progress != nil {
				r.opts.Progress(c, len(results[i].Runs), round)
			}
		}
	}
	return results, nil
}

// roundOrder is the order of the commands in a round: forwards in even
// rounds, backwards in odd ones (A B, B A, A B, …), so that no command
// always runs first or always follows the same neighbour.
func roundOrder(n, round int) []int {
	order := make([]int, n)
	for i := range order {
		if round%2 == 0 {
			order[i] = i
		} else {
			order[i] = n - 1 - i
		}
	}
	return order
}

// done reports whether measuring stops before round (0-based).
func (r *runner) done(round int, spent time.Duration, ncmds int) bool {
	if round < r.opts.MinRuns {
		return false
	}
	if r.opts.MaxRuns > 0 && round >= r.opts.MaxRuns {
		return true
	}
	return spent >= r.opts.MinTime*time.Duration(ncmds)
}

// once runs the prepare command (if any) and then c once, measured.
func (r *runner) once(ctx context.Context, i int, c Command, what string) (Run, error) {
	if len(r.opts.Prepare) > 0 {
		p := r.opts.Prepare[0]
		if len(r.opts.Prepare) > 1 {
			p = r.opts.Prepare[i]
		}
		if err := r.aux(ctx, "prepare", p, c); err != nil {
			return Run{}, err
		}
	}
	run, err := r.exec(ctx, c.Line)
	if err != nil {
		return run, fmt.Errorf("%s command %q: %w", what, c.Line, err)
	}
	run.Wall = max(0, run.Wall-r.overhead.Wall)
	run.User = max(0, run.User-r.overhead.User)
	run.Sys = max(0, run.Sys-r.overhead.Sys)
	if run.ExitCode != 0 && !r.opts.IgnoreFailure {
		return run, &FailureError{What: what, Line: c.Line, ExitCode: run.ExitCode}
	}
	return run, nil
}

// aux runs a setup, cleanup or prepare line with c's parameters; an empty
// line does nothing. Its failure always stops the benchmark.
func (r *runner) aux(ctx context.Context, what, line string, c Command) error {
	if line == "" {
		return nil
	}
	line = substitute(line, c.Params)
	run, err := r.exec(ctx, line)
	if err != nil {
		return fmt.Errorf("%s command %q: %w", what, line, err)
	}
	if run.ExitCode != 0 {
		return &FailureError{What: what, Line: line, ExitCode: run.ExitCode}
	}
	return nil
}

// exec runs one line and measures it. A non-zero exit is not an error here;
// it is returned in Run.ExitCode.
func (r *runner) exec(ctx context.Context, line string) (Run, error) {
	argv, err := r.argv(line)
	if err != nil {
		return Run{}, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = r.opts.Output, r.opts.Output
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Run{}, err
	}
	err = cmd.Wait()
	wall := time.Since(start)
	if ctx.Err() != nil {
		return Run{}, ctx.Err()
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return Run{}, err
	}
	user, sys, rss := usage(cmd.ProcessState)
	return Run{
		Wall:     wall.Seconds(),
		User:     user.Seconds(),
		Sys:      sys.Seconds(),
		MaxRSS:   rss,
		ExitCode: cmd.ProcessState.ExitCode(),
	}, nil
}

func (r *runner) argv(line string) ([]string, error) {
	if r.opts.NoShell {
		return SplitWords(line)
	}
	sh, err := SplitWords(r.opts.Shell)
	if err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	return append(sh, "-c", line), nil
}
