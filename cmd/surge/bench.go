package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/surgeload/surge/internal/bench"
	"github.com/surgeload/surge/internal/bench/plot"
	"github.com/surgeload/surge/internal/bench/stats"
)

func init() {
	register(command{
		name:    "bench",
		summary: "benchmark commands or Go benchmarks with statistics; save and compare baselines",
		run:     runBench,
	})
}

// runBench dispatches: `surge bench go …`, `surge bench compare OLD NEW`,
// or commands (`surge bench -- 'cmd A' 'cmd B'`).
func runBench(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "go":
			return runBenchGo(ctx, stdout, stderr, args[1:])
		case "compare":
			return runBenchCompare(stdout, stderr, args[1:])
		}
	}
	return runBenchCommands(ctx, stdout, stderr, args)
}

// benchOut holds the flags shared by every form: baselines, thresholds,
// exports and pictures.
type benchOut struct {
	save, compare, dir                          string
	failOn                                      benchList
	exportJSON, exportCSV, exportMD, exportHTML string
	histogram                                   bool
	alpha, confidence                           float64
}

type benchList []string

func (l *benchList) String() string     { return strings.Join(*l, ",") }
func (l *benchList) Set(s string) error { *l = append(*l, s); return nil }

func (o *benchOut) register(fs *flag.FlagSet, withSave bool) {
	if withSave {
		fs.StringVar(&o.save, "save", "", "save raw samples, machine and git commit as baseline `NAME` under --dir")
		fs.StringVar(&o.compare, "compare", "", "compare with baseline `NAME` (or a baseline/go test output file)")
	}
	fs.StringVar(&o.dir, "dir", bench.DefaultDir, "directory of saved baselines")
	fs.Var(&o.failOn, "fail-on", "exit 99 on a significant change beyond `UNIT:±N%`, like sec/op:+5% (repeatable)")
	fs.StringVar(&o.exportJSON, "export-json", "", "write results as JSON to `FILE`")
	fs.StringVar(&o.exportCSV, "export-csv", "", "write results as CSV to `FILE`")
	fs.StringVar(&o.exportMD, "export-markdown", "", "write results as a Markdown table to `FILE`")
	fs.StringVar(&o.exportHTML, "export-html", "", "write an HTML page of SVG box plots to `FILE`")
	fs.BoolVar(&o.histogram, "histogram", false, "draw a terminal histogram per benchmark")
	fs.Float64Var(&o.alpha, "alpha", stats.DefaultAlpha, "significance level of the Mann-Whitney U test")
	fs.Float64Var(&o.confidence, "confidence", stats.DefaultConfidence, "confidence level of the median's interval")
}

func (o *benchOut) validate() ([]bench.Threshold, error) {
	if o.alpha <= 0 || o.alpha >= 1 {
		return nil, usageErrorf("--alpha %v: want a level between 0 and 1, like 0.05", o.alpha)
	}
	if o.confidence <= 0 || o.confidence >= 1 {
		return nil, usageErrorf("--confidence %v: want a level between 0 and 1, like 0.95", o.confidence)
	}
	if o.save != "" {
		if _, err := bench.BaselinePath(o.dir, o.save); err != nil {
			return nil, usageErrorf("--save: %w", err)
		}
	}
	var ths []bench.Threshold
	for _, s := range o.failOn {
		th, err := bench.ParseThreshold(s)
		if err != nil {
			return nil, usageErrorf("%w", err)
		}
		ths = append(ths, th)
	}
	if len(ths) > 0 && o.compare == "" {
		return nil, usageErrorf("--fail-on needs a baseline to compare with: add --compare NAME")
	}
	return ths, nil
}

func (o *benchOut) copts() bench.CompareOptions {
	return bench.CompareOptions{Alpha: o.alpha, Confidence: o.confidence}
}

// finish writes exports and pictures, saves the baseline, and applies
// --fail-on: the steps every form shares once its tables exist.
func (o *benchOut) finish(stdout, stderr io.Writer, ths []bench.Threshold, tables []bench.Table, cmds []bench.CommandResult, set *bench.Set, kind string) error {
	if o.histogram && len(cmds) == 0 {
		bench.WriteTableHistograms(stdout, tables)
	}
	if err := o.exports(tables, cmds); err != nil {
		return err
	}
	if o.save != "" {
		b := bench.NewBaseline(o.save, kind, ".", set, cmds)
		path, err := bench.SaveBaseline(o.dir, b)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "saved baseline %s to %s\n", o.save, path)
	}
	return failOn(stdout, ths, tables)
}

func failOn(stdout io.Writer, ths []bench.Threshold, tables []bench.Table) error {
	v := bench.CheckThresholds(tables, ths)
	if len(v) == 0 {
		return nil
	}
	fmt.Fprintln(stdout)
	for _, x := range v {
		fmt.Fprintf(stdout, "✗ %s\n", x)
	}
	return withCode(ExitThresholdsFailed, fmt.Errorf("%d significant change(s) beyond --fail-on %s", len(v), strings.Join(thresholdStrings(ths), ", ")))
}

func thresholdStrings(ths []bench.Threshold) []string {
	var s []string
	for _, t := range ths {
		s = append(s, t.String())
	}
	return s
}

func (o *benchOut) exports(tables []bench.Table, cmds []bench.CommandResult) error {
	sums := bench.CommandSummaries(cmds, o.copts())
	write := func(path string, f func(io.Writer) error) error {
		if path == "" {
			return nil
		}
		file, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("exporting: %w", err)
		}
		if err := f(file); err != nil {
			file.Close()
			return fmt.Errorf("exporting %s: %w", path, err)
		}
		return file.Close()
	}
	commit, _ := bench.GitCommit(".")
	report := bench.Report{Machine: bench.CurrentMachine(), Commit: commit, Commands: sums, Tables: bench.ExportTables(tables)}
	groups := bench.BoxGroups(tables)
	if len(cmds) > 0 {
		groups = append([]plot.BoxGroup{bench.CommandBoxGroup(cmds)}, groups...)
	}
	return errors.Join(
		write(o.exportJSON, func(w io.Writer) error { return bench.WriteJSON(w, report) }),
		write(o.exportCSV, func(w io.Writer) error { return bench.WriteCSV(w, sums, tables) }),
		write(o.exportMD, func(w io.Writer) error { return bench.WriteMarkdown(w, sums, tables) }),
		write(o.exportHTML, func(w io.Writer) error { return plot.BoxPlotHTML(w, "surge bench", groups) }),
	)
}

// loadBaseline reads --compare's baseline, reporting unparseable lines.
func loadBaseline(stderr io.Writer, dir, ref string) (*bench.Set, error) {
	set, bad, err := bench.Load(dir, ref)
	reportBadLines(stderr, bad)
	if err != nil {
		return nil, err
	}
	if b := set.Origin; b != nil {
		fmt.Fprintf(stderr, "surge bench: comparing with %s\n", b.Describe())
		if d := b.MachineDiffers(bench.CurrentMachine()); d != "" {
			fmt.Fprintf(stderr, "surge bench: warning: the baseline was measured on another machine (%s)\n", d)
		}
	}
	return set, nil
}

func reportBadLines(stderr io.Writer, bad []bench.LineError) {
	for _, e := range bad {
		fmt.Fprintf(stderr, "surge bench: %s (line skipped)\n", e)
	}
}

// --- surge bench -- 'cmd A' 'cmd B' ---

type benchCmdFlags struct {
	warmup, minRuns, maxRuns, runs int
	minTime                        time.Duration
	prepare, names, scans, lists   benchList
	setup, cleanup, shell, step    string
	noShell, ignore, showOutput    bool
}

func runBenchCommands(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("bench")
	var f benchCmdFlags
	var o benchOut
	f.register(fs)
	o.register(fs, true)
	pre, err := joinScanArgs(args)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, pre, stdout); err != nil {
		return err
	}
	lines := fs.Args()
	if len(lines) == 0 {
		return usageErrorf("no command to benchmark: surge bench [flags] -- 'cmd A' 'cmd B' (or surge bench go, surge bench compare)")
	}
	ths, err := o.validate()
	if err != nil {
		return err
	}
	cmds, opts, err := f.plan(lines)
	if err != nil {
		return err
	}
	if f.showOutput {
		opts.Output = stderr
	}
	var old *bench.Set // loaded first: a typo should not cost a benchmark run
	if o.compare != "" {
		if old, err = loadBaseline(stderr, o.dir, o.compare); err != nil {
			return err
		}
	}
	opts.Progress = progress(stderr, len(cmds))
	results, err := bench.RunCommands(ctx, cmds, opts)
	if opts.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return fmt.Errorf("benchmarking: %w", err)
	}
	return reportCommands(stdout, stderr, &o, ths, old, results)
}

func reportCommands(stdout, stderr io.Writer, o *benchOut, ths []bench.Threshold, old *bench.Set, results []bench.CommandResult) error {
	if err := bench.WriteCommands(stdout, results); err != nil {
		return err
	}
	if o.histogram {
		bench.WriteHistograms(stdout, results)
	}
	bench.WriteSummary(stdout, bench.Relatives(results, o.copts()))
	label := "current"
	if o.save != "" {
		label = o.save
	}
	set := bench.CommandSet(label, results)
	var tables []bench.Table
	if old != nil {
		tables = bench.Compare(old, set, o.copts())
		if err := bench.WriteText(stdout, tables); err != nil {
			return err
		}
	}
	return o.finish(stdout, stderr, ths, tables, results, set, "commands")
}

// register defines the flags of the commands form, with hyperfine's short
// and long names.
func (f *benchCmdFlags) register(fs *flag.FlagSet) {
	both := func(p *int, short, long string, def int, usage string) {
		fs.IntVar(p, short, def, usage)
		fs.IntVar(p, long, def, usage)
	}
	both(&f.warmup, "w", "warmup", 0, "warm-up runs of each command before measuring")
	both(&f.minRuns, "m", "min-runs", bench.DefaultMinRuns, "least measured runs of each command")
	both(&f.maxRuns, "M", "max-runs", 0, "most measured runs of each command (0: no limit)")
	both(&f.runs, "r", "runs", 0, "exact number of measured runs (sets --min-runs and --max-runs)")
	fs.DurationVar(&f.minTime, "min-time", bench.DefaultMinTime, "least time spent measuring each command")
	for _, n := range []string{"p", "prepare"} {
		fs.Var(&f.prepare, n, "command to run before each run (once for all, or once per command)")
	}
	for _, n := range []string{"n", "command-name"} {
		fs.Var(&f.names, n, "name of a command in reports (repeatable, in order)")
	}
	for _, n := range []string{"P", "parameter-scan"} {
		fs.Var(&f.scans, n, "`NAME LO HI`: run each command for NAME=LO..HI, substituted for {NAME}")
	}
	fs.StringVar(&f.step, "D", "1", "step of -P parameter scans")
	fs.StringVar(&f.step, "parameter-step-size", "1", "step of -P parameter scans")
	for _, n := range []string{"L", "parameter-list"} {
		fs.Var(&f.lists, n, "`NAME a,b,c`: run each command for each listed value of {NAME}")
	}
	for _, n := range []string{"s", "setup"} {
		fs.StringVar(&f.setup, n, "", "command to run once per command before its runs")
	}
	for _, n := range []string{"c", "cleanup"} {
		fs.StringVar(&f.cleanup, n, "", "command to run once per command after its runs")
	}
	for _, n := range []string{"S", "shell"} {
		fs.StringVar(&f.shell, n, bench.DefaultShell, "shell that runs each command as SHELL -c CMD")
	}
	for _, n := range []string{"N", "no-shell"} {
		fs.BoolVar(&f.noShell, n, false, "run commands directly, split into words, without a shell")
	}
	for _, n := range []string{"i", "ignore-failure"} {
		fs.BoolVar(&f.ignore, n, false, "keep going when a command exits non-zero")
	}
	fs.BoolVar(&f.showOutput, "show-output", false, "show the commands' output on stderr")
}

// progress shows the current round on one line of a terminal; it is nil
// (no progress) when stderr is not a terminal, so logs and tests stay clean.
func progress(stderr io.Writer, n int) func(bench.Command, int, int) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(c bench.Command, done, round int) {
		name := c.Name
		if len(name) > 40 {
			name = name[:39] + "…"
		}
		fmt.Fprintf(stderr, "\r\033[Kround %d · %d commands · %s: run %d", round+1, n, name, done)
	}
}

// plan turns flags and command lines into commands and run options.
func (f *benchCmdFlags) plan(lines []string) ([]bench.Command, bench.RunOptions, error) {
	var params []bench.Param
	for _, s := range f.scans {
		parts := strings.Split(s, "\x1f")
		if len(parts) != 3 {
			return nil, bench.RunOptions{}, usageErrorf("-P %q: want -P NAME LO HI", s)
		}
		p, err := bench.RangeParam(parts[0], parts[1], parts[2], f.step)
		if err != nil {
			return nil, bench.RunOptions{}, usageErrorf("%w", err)
		}
		params = append(params, p)
	}
	for _, s := range f.lists {
		name, vals, ok := strings.Cut(s, "\x1f")
		if !ok || name == "" || vals == "" {
			return nil, bench.RunOptions{}, usageErrorf("-L %q: want -L NAME a,b,c", s)
		}
		params = append(params, bench.Param{Name: name, Values: strings.Split(vals, ",")})
	}
	cmds, err := bench.Expand(lines, f.names, params)
	if err != nil {
		return nil, bench.RunOptions{}, usageErrorf("%w", err)
	}
	opts := bench.RunOptions{
		Warmup: f.warmup, MinRuns: f.minRuns, MaxRuns: f.maxRuns, MinTime: f.minTime,
		Prepare: f.prepare, Setup: f.setup, Cleanup: f.cleanup,
		Shell: f.shell, NoShell: f.noShell, IgnoreFailure: f.ignore,
	}
	if f.runs > 0 {
		opts.MinRuns, opts.MaxRuns = f.runs, f.runs
	}
	if f.warmup < 0 || f.minRuns < 1 || f.maxRuns < 0 || f.runs < 0 {
		return nil, opts, usageErrorf("run counts must be positive (--warmup %d, --min-runs %d, --max-runs %d, --runs %d)", f.warmup, f.minRuns, f.maxRuns, f.runs)
	}
	if opts.MaxRuns > 0 && opts.MaxRuns < opts.MinRuns {
		return nil, opts, usageErrorf("--max-runs %d is below --min-runs %d", opts.MaxRuns, opts.MinRuns)
	}
	if len(f.prepare) > 1 && len(f.prepare) != len(lines) {
		return nil, opts, usageErrorf("%d --prepare commands for %d commands: give one for all or one per command", len(f.prepare), len(lines))
	}
	if len(f.prepare) > 1 && len(cmds) != len(lines) {
		// One prepare per command line: repeat it for each scan value.
		per := len(cmds) / len(lines)
		var rep []string
		for _, p := range f.prepare {
			for range per {
				rep = append(rep, p)
			}
		}
		opts.Prepare = rep
	}
	return cmds, opts, nil
}

// joinScanArgs rewrites the multi-valued -P NAME LO HI and -L NAME LIST
// into single flag values the flag package can take, up to a "--".
func joinScanArgs(args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		n := 0
		switch a {
		case "-P", "--P", "-parameter-scan", "--parameter-scan":
			n = 3
		case "-L", "--L", "-parameter-list", "--parameter-list":
			n = 2
		}
		if n == 0 {
			out = append(out, a)
			continue
		}
		if i+n > len(args)-1 || slices.Contains(args[i+1:i+1+n], "--") {
			return nil, usageErrorf("%s needs %d values (%s)", a, n, map[int]string{3: "NAME LO HI", 2: "NAME a,b,c"}[n])
		}
		out = append(out, a, strings.Join(args[i+1:i+1+n], "\x1f"))
		i += n
	}
	return out, nil
}

// --- surge bench go ---

func runBenchGo(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("bench go")
	var g bench.GoOptions
	var o benchOut
	var verbose bool
	fs.StringVar(&g.Bench, "bench", ".", "run only benchmarks matching `REGEX`")
	fs.IntVar(&g.Count, "count", bench.DefaultCount, "samples of each benchmark (go test -count)")
	fs.StringVar(&g.Benchtime, "benchtime", "", "go test -benchtime, like 1s or 100x")
	fs.BoolVar(&verbose, "v", false, "show go test's output on stderr as it runs")
	o.register(fs, true)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	ths, err := o.validate()
	if err != nil {
		return err
	}
	if g.Count < 1 {
		return usageErrorf("--count %d: want at least 1", g.Count)
	}
	g.Packages = fs.Args()
	if verbose {
		g.Output = stderr
	}
	var old *bench.Set // loaded first: a typo should not cost a benchmark run
	if o.compare != "" {
		if old, err = loadBaseline(stderr, o.dir, o.compare); err != nil {
			return err
		}
	}
	set, bad, err := bench.RunGo(ctx, g)
	reportBadLines(stderr, bad)
	if err != nil {
		return err
	}
	if o.save != "" {
		set.Label = o.save
	}
	tables := bench.Compare(old, set, o.copts())
	if err := bench.WriteText(stdout, tables); err != nil {
		return err
	}
	return o.finish(stdout, stderr, ths, tables, nil, set, "go")
}

// --- surge bench compare OLD NEW ---

func runBenchCompare(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("bench compare")
	var o benchOut
	o.register(fs, false)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want two baselines or files: surge bench compare OLD NEW (got %d)", fs.NArg())
	}
	o.compare = fs.Arg(0)
	ths, err := o.validate()
	if err != nil {
		return err
	}
	old, err := loadBaseline(stderr, o.dir, fs.Arg(0))
	if err != nil {
		return err
	}
	cur, err := loadBaseline(stderr, o.dir, fs.Arg(1))
	if err != nil {
		return err
	}
	if old.Label == cur.Label {
		old.Label, cur.Label = fs.Arg(0), fs.Arg(1)
	}
	tables := bench.Compare(old, cur, o.copts())
	if err := bench.WriteText(stdout, tables); err != nil {
		return err
	}
	return o.finish(stdout, stderr, ths, tables, nil, cur, "go")
}
