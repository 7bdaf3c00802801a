package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/protocol/httpvu"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/threads"
	"github.com/surgeload/surge/internal/vu"
)

func init() {
	register(command{name: "run", summary: "run a load test from flags (--url) or a script", run: runCmd})
}

// loadScript, when set (by script.go), turns a script into a test. f holds
// the command-line flags, which override the script's options (k6's
// precedence: defaults < script options < environment < flags).
var loadScript func(ctx context.Context, path string, f *runFlags, stdout, stderr io.Writer) (runner.Config, error)

// writeHTMLReport, when set (by report.go), writes the self-contained HTML
// report of a finished run for --report FILE.html.
var writeHTMLReport func(path string, sum *report.Summary, reg *metrics.Registry, f *runFlags) error

// startDashboard, when set (by dashboard.go), serves the live dashboard for
// --dashboard. It returns a function called after every registry tick and
// one called with the summary when the run has ended.
var startDashboard func(ctx context.Context, o dashboardOptions) (onTick func(now time.Time), finish func(sum *report.Summary), err error)

// dashboardOptions is what the dashboard gets from run.
type dashboardOptions struct {
	Addr, Token string
	Registry    *metrics.Registry
	Control     *engine.Control
	Config      map[string]string // how the test was run
	Stderr      io.Writer
	Keep        string         // --dashboard-keep (else SURGE_DASHBOARD_KEEP)
	Attach      *runner.Attach // profiles and SQL: the dashboard shows each stage's profile as it ends
	Workers     *workerBoard   // surge master: the Workers tab (nil in a local run)
}

// addrFlag is --dashboard[=ADDR]: alone it means the default address.
type addrFlag struct {
	addr string
	def  string
}

func (a *addrFlag) String() string   { return a.addr }
func (a *addrFlag) IsBoolFlag() bool { return true }
func (a *addrFlag) Set(v string) error {
	switch v {
	case "true":
		a.addr = a.def
	case "false":
		a.addr = ""
	default:
		a.addr = v
	}
	return nil
}

// ExitInterruptedRun is k6's code for a run stopped from outside.
const ExitInterruptedRun = 105

// runFlags are the flags of surge run (and of surge demo's test).
type runFlags struct {
	url, method, body, bodyFile, name string
	headers                           listFlag
	vus, iterations, maxVUs, preVUs   int
	duration, warmup, timeUnit        time.Duration
	timeout, gracefulStop             time.Duration
	rate                              float64
	stages, thresholds, outs, tags    listFlag
	summaryExport, trendStats, report string
	noExceptionExit                   bool
	includeTags, excludeTags          listFlag
	dashboard                         addrFlag
	dashboardToken                    string
	dashboardKeep                     string
	save                              string
	noSave                            bool
	script                            string
	profilePID                        int
	profileURL, profileDir, pg        string
	pgExplain                         bool
	insecure, keepBodies, h2c, noH2   bool
	quiet, noSummary, noColor         bool
	threads                           int
	progressEvery                     time.Duration
	config                            string
}

func (f *runFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "URL to load-test without a script")
	fs.StringVar(&f.method, "method", "GET", "HTTP method for --url")
	fs.StringVar(&f.method, "X", "GET", "shorthand for --method")
	fs.Var(&f.headers, "header", "request header 'Name: value' for --url (repeatable)")
	fs.Var(&f.headers, "H", "shorthand for --header")
	fs.StringVar(&f.body, "body", "", "request body for --url")
	fs.StringVar(&f.bodyFile, "body-file", "", "read the request body for --url from a file")
	fs.StringVar(&f.name, "name", "", "name that groups the requests in results (default: the URL)")
	fs.IntVar(&f.vus, "vus", 0, "virtual users (default 1)")
	fs.IntVar(&f.vus, "u", 0, "shorthand for --vus")
	fs.DurationVar(&f.duration, "duration", 0, "test duration, e.g. 30s, 5m")
	fs.DurationVar(&f.duration, "d", 0, "shorthand for --duration")
	fs.IntVar(&f.iterations, "iterations", 0, "total iterations shared by the VUs")
	fs.IntVar(&f.iterations, "i", 0, "shorthand for --iterations")
	fs.Var(&f.stages, "stage", "ramp stage DURATION:TARGET, e.g. 30s:20 (repeatable); with --rate the targets are rates")
	fs.Float64Var(&f.rate, "rate", 0, "open model: start this many iterations per --time-unit (constant-arrival-rate)")
	fs.DurationVar(&f.timeUnit, "time-unit", time.Second, "time unit of --rate")
	fs.IntVar(&f.maxVUs, "max-vus", 0, "most VUs an arrival-rate test may start (default max(2×rate, 100), at most 20000)")
	fs.IntVar(&f.preVUs, "pre-allocated-vus", 0, "VUs created before an arrival-rate test starts (default min(rate, 100))")
	fs.DurationVar(&f.gracefulStop, "graceful-stop", 30*time.Second, "time running iterations get to finish at the end")
	fs.Var(&f.thresholds, "threshold", "pass/fail criterion 'METRIC: EXPR', e.g. 'http_req_duration: p(95)<500' (repeatable)")
	fs.StringVar(&f.summaryExport, "summary-export", "", "write the end summary as k6-compatible JSON to this file")
	fs.Var(&f.outs, "out", "stream results: json=FILE (NDJSON per second), csv=PREFIX (Locust CSV), prometheus=ADDR (serve /metrics), prometheus-rw=URL (remote write), otlp=URL (OTLP/HTTP), influxdb=URL (line protocol) (repeatable; docs/outputs.md)")
	fs.StringVar(&f.trendStats, "summary-trend-stats", "", "trend statistics in the summary, e.g. avg,med,p(95),p(99.9) (default avg,min,med,max,p(90),p(95),p(99))")
	fs.DurationVar(&f.warmup, "warmup", 0, "keep the first part of the test out of the results, e.g. 10s")
	fs.Var(&f.tags, "tag", "NAME=VALUE tag on every sample (repeatable)")
	fs.BoolVar(&f.insecure, "insecure-skip-tls-verify", false, "do not verify TLS certificates")
	fs.BoolVar(&f.keepBodies, "keep-response-bodies", false, "keep response bodies in quick mode (they are read and discarded by default)")
	fs.DurationVar(&f.timeout, "timeout", httpc.DefaultTimeout, "request timeout")
	fs.BoolVar(&f.h2c, "h2c", false, "speak HTTP/2 without TLS (prior knowledge) to http:// URLs")
	fs.BoolVar(&f.noH2, "no-http2", false, "do not offer HTTP/2 over TLS")
	fs.BoolVar(&f.quiet, "quiet", false, "no live status line")
	fs.BoolVar(&f.quiet, "q", false, "shorthand for --quiet")
	fs.DurationVar(&f.progressEvery, "progress-every", 10*time.Second, "when stderr is not a terminal, print a status line this often (0: never)")
	fs.BoolVar(&f.noSummary, "no-summary", false, "do not print the end summary")
	fs.BoolVar(&f.noColor, "no-color", false, "no colors (also NO_COLOR)")
	fs.IntVar(&f.threads, "threads", 0, "OS threads that run the load (GOMAXPROCS), as wrk's -t; 0: one per CPU, or half of them when the server under test is on this machine")
	fs.StringVar(&f.report, "report", "", "write a self-contained HTML report of the run to this file")
	fs.BoolVar(&f.noExceptionExit, "no-exception-exit", false, "exit 0 even when iterations ended in exceptions (k6's behavior)")
	fs.Var(&f.includeTags, "include-tag", "run only tasks with this tag (Locust's --tags; repeatable)")
	fs.Var(&f.excludeTags, "exclude-tag", "skip tasks with this tag (Locust's --exclude-tags; repeatable)")
	f.dashboard.def = "127.0.0.1:5665"
	fs.Var(&f.dashboard, "dashboard", "serve the live web dashboard during the run: --dashboard (127.0.0.1:5665) or --dashboard=ADDR")
	fs.StringVar(&f.dashboardToken, "dashboard-token", "", "token the dashboard requires (needed to bind beyond localhost)")
	fs.StringVar(&f.dashboardKeep, "dashboard-keep", "", "keep the dashboard up after the run: a duration (10m), or true (until Ctrl-C)")
	fs.StringVar(&f.save, "save", ".surge/runs", "save the result (summary, histograms, series) to this directory, or to this file if it ends in .json.gz")
	fs.BoolVar(&f.noSave, "no-save", false, "do not save the result")
	fs.IntVar(&f.profilePID, "profile-pid", 0, "record CPU profiles of this process during the test, one per stage")
	fs.StringVar(&f.profileURL, "profile-url", "", "record CPU profiles of this Go service (its /debug/pprof URL) during the test, one per stage")
	fs.StringVar(&f.profileDir, "profile-dir", "", "where stage profiles are saved (default .surge/profiles)")
	fs.StringVar(&f.pg, "pg", "", "PostgreSQL DSN: report the statements that ran during the test (pg_stat_statements)")
	fs.BoolVar(&f.pgExplain, "pg-explain", false, "with --pg: EXPLAIN ANALYZE the slowest read-only statement")
	fs.StringVar(&f.config, "config", "", "read flag defaults from a YAML file (keys are long flag names)")
}

func runCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if addr, rest, ok := cutFlag(args, "grpc"); ok { // surge run --grpc ADDR … is surge grpc ADDR …
		return grpcCmd(ctx, stdout, stderr, append([]string{addr}, rest...))
	}
	var f runFlags
	fs := newFlagSet("run")
	f.define(fs)
	if err := applyDefaults(fs, args, os.Getenv); err != nil {
		return err
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) { // --grpc is cut from args above, so it is no flag of fs
			fmt.Fprintln(stdout, "  -grpc ADDR\n    \ta gRPC quick test instead: surge run --grpc ADDR … is surge grpc ADDR … (see surge grpc -h)")
		}
		return err
	}
	if fs.NArg() > 0 {
		if loadScript == nil {
			return usageErrorf("scripts are not supported by this build yet (got %q); use --url for a quick test", fs.Arg(0))
		}
		f.script = fs.Arg(0)
		cfg, err := loadScript(ctx, fs.Arg(0), &f, stdout, stderr)
		if err != nil {
			return err
		}
		return execute(ctx, stdout, stderr, &f, cfg)
	}
	if f.url == "" {
		return usageErrorf("nothing to run: give --url URL (or a script)")
	}
	cfg, err := f.quickConfig()
	if err != nil {
		return err
	}
	return execute(ctx, stdout, stderr, &f, cfg)
}

// execute runs cfg with the output flags of f and maps the outcome to an
// exit code.
func execute(ctx context.Context, stdout, stderr io.Writer, f *runFlags, cfg runner.Config) error {
	if f.threads < 0 {
		return usageErrorf("--threads %d: want a number of threads, or 0 for one per CPU", f.threads)
	}
	if f.threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(f.threads))
	} else {
		// One thread per CPU, or half of them once the load turns out to
		// go to a server on this machine (internal/threads).
		choice := threads.Arm()
		defer choice.Release()
		cfg.Notes = func() []string {
			if n := choice.Note(); n != "" {
				return []string{n}
			}
			return nil
		}
	}
	ths, err := parseThresholds(f.thresholds)
	if err != nil {
		return err
	}
	cfg.Thresholds = append(cfg.Thresholds, ths...)
	if err := checkThresholdMetrics(cfg.Thresholds); err != nil {
		return err
	}
	if f.trendStats != "" {
		if cfg.TrendStats, err = parseTrendStats(f.trendStats); err != nil {
			return err
		}
	}
	tags, err := parseTags(f.tags)
	if err != nil {
		return err
	}
	cfg.Tags, cfg.Warmup, cfg.Outs = tags, f.warmup, f.outs
	cfg.SummaryExport, cfg.NoSummary = f.summaryExport, f.noSummary
	cfg.Stdout, cfg.Status = stdout, stderr
	tty := isTerminal(stderr)
	cfg.Progress = tty && !f.quiet
	if !tty && !f.quiet {
		cfg.ProgressEvery = f.progressEvery
	}
	cfg.Color = isTerminal(stdout) && !f.noColor && os.Getenv("NO_COLOR") == ""
	if cfg.Registry == nil {
		cfg.Registry = metrics.NewRegistry()
	}
	if f.profilePID != 0 || f.profileURL != "" || f.pg != "" {
		cfg.Attach = &runner.Attach{ProfilePID: f.profilePID, ProfileURL: f.profileURL, ProfileDir: f.profileDir, PGDSN: f.pg, PGExplain: f.pgExplain}
		cfg.Attach.Cuts, cfg.Attach.Targets = stageCuts(cfg.Scenarios)
	} else if f.pgExplain {
		return usageErrorf("--pg-explain needs --pg DSN")
	}
	var dashFinish func(*report.Summary)
	if f.dashboard.addr != "" {
		if startDashboard == nil {
			return usageErrorf("--dashboard: this build has no dashboard")
		}
		cfg.Control = engine.NewControl()
		onTick, finish, err := startDashboard(ctx, dashboardOptions{Addr: f.dashboard.addr, Token: f.dashboardToken,
			Registry: cfg.Registry, Control: cfg.Control, Config: flagConfig(f), Stderr: stderr, Keep: f.dashboardKeep, Attach: cfg.Attach})
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("--dashboard: %w", err))
		}
		dashFinish = finish
		prev := cfg.OnTick
		cfg.OnTick = func(reg *metrics.Registry, now time.Time) {
			if prev != nil {
				prev(reg, now)
			}
			onTick(now)
		}
	}
	sum, res, err := runner.Run(ctx, cfg)
	if err != nil && dashFinish != nil {
		dashFinish(nil) // finish accepts nil: close the dashboard of a run that failed
	}
	var ce *runner.ConfigError
	if errors.As(err, &ce) {
		return withCode(ExitUsage, err)
	}
	if err != nil {
		return err
	}
	saveResult("run", f, sum, cfg.Registry, stdout, stderr)
	var reportErr error
	if f.report != "" {
		if writeHTMLReport == nil {
			reportErr = fmt.Errorf("--report: this build has no HTML report")
		} else if err := writeHTMLReport(f.report, sum, cfg.Registry, f); err != nil {
			reportErr = fmt.Errorf("writing report: %w", err)
		}
	}
	if dashFinish != nil { // after the result and report are on disk: a kept dashboard returns only when closed
		dashFinish(sum)
	}
	if reportErr != nil {
		return reportErr
	}
	switch {
	case res.Failed():
		return &silentError{code: ExitThresholdsFailed}
	case res.Aborted != "" && res.Aborted != stoppedFromDashboard:
		return &silentError{code: ExitScriptAborted} // the summary says why
	case res.Exceptions > 0 && !f.noExceptionExit:
		return &silentError{code: ExitIterationErrors}
	case res.Interrupted:
		return &silentError{code: ExitInterruptedRun}
	}
	return nil
}

func parseThresholds(list []string) ([]*metrics.Threshold, error) {
	var out []*metrics.Threshold
	for _, s := range list {
		t, err := metrics.ParseThresholdFlag(s)
		if err != nil {
			return nil, usageErrorf("--threshold: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// checkThresholdMetrics rejects thresholds on unknown built-in metrics
// before the run, with the aggregation checked against the metric's type.
func checkThresholdMetrics(ths []*metrics.Threshold) error {
	reg := metrics.NewRegistry()
	for _, t := range ths {
		m := reg.Get(t.Metric)
		if m == nil {
			continue // a custom metric from a script; checked at the end
		}
		if err := t.Check(m); err != nil {
			return usageErrorf("--threshold: %w", err)
		}
	}
	return nil
}

func parseTags(list []string) (map[string]string, error) {
	tags := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--tag %q: want NAME=VALUE", s)
		}
		tags[k] = v
	}
	return tags, nil
}

// parseStage parses "30s:20" into a stage.
func parseStage(s string) (engine.Stage, error) {
	d, t, ok := strings.Cut(s, ":")
	if !ok {
		return engine.Stage{}, usageErrorf("--stage %q: want DURATION:TARGET, e.g. 30s:20", s)
	}
	dur, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || dur < 0 {
		return engine.Stage{}, usageErrorf("--stage %q: bad duration %q (e.g. 30s, 1m)", s, d)
	}
	target, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || target < 0 {
		return engine.Stage{}, usageErrorf("--stage %q: bad target %q", s, t)
	}
	return engine.Stage{Duration: dur, Target: target}, nil
}

// executor picks the executor the flags describe, as k6 does for its
// shortcut options.
func (f *runFlags) executor() (engine.Executor, error) {
	var stages []engine.Stage
	for _, s := range f.stages {
		st, err := parseStage(s)
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
	}
	vus := max(f.vus, 1)
	switch {
	case f.rate > 0:
		if f.duration <= 0 && len(stages) == 0 {
			return nil, usageErrorf("--rate needs --duration (or --stage): an arrival rate has no natural end")
		}
		if f.timeUnit <= 0 {
			return nil, usageErrorf("--time-unit %s: want a positive duration, such as 1s or 1m (--rate is iterations per time unit)", f.timeUnit)
		}
		pre := f.preVUs
		if pre <= 0 {
			pre = int(min(max(f.rate, 1), 100))
		}
		maxVUs := f.maxVUs
		if maxVUs <= 0 {
			maxVUs = int(min(max(2*f.rate, 100), 20000))
		}
		if len(stages) > 0 {
			return engine.RampingArrivalRate{StartRate: f.rate, TimeUnit: f.timeUnit, Stages: stages, PreAllocatedVUs: pre, MaxVUs: maxVUs}, nil
		}
		return engine.ConstantArrivalRate{Rate: f.rate, TimeUnit: f.timeUnit, Duration: f.duration, PreAllocatedVUs: pre, MaxVUs: maxVUs}, nil
	case f.rate < 0:
		return nil, usageErrorf("--rate must be positive")
	case len(stages) > 0:
		return engine.RampingVUs{StartVUs: f.vus, Stages: stages, GracefulRampDown: f.gracefulStop}, nil
	case f.iterations > 0:
		return engine.SharedIterations{VUs: vus, Iterations: f.iterations, MaxDuration: f.duration}, nil
	case f.duration > 0:
		return engine.ConstantVUs{VUs: vus, Duration: f.duration}, nil
	case f.vus < 0 || f.iterations < 0 || f.duration < 0:
		return nil, usageErrorf("--vus, --iterations and --duration must not be negative")
	}
	return engine.SharedIterations{VUs: vus, Iterations: vus}, nil // k6's default: one iteration per VU
}

// httpConfig is the client configuration the flags describe.
func (f *runFlags) httpConfig() httpc.Config {
	cfg := httpc.DefaultConfig()
	cfg.Timeout = f.timeout
	cfg.H2C, cfg.DisableHTTP2 = f.h2c, f.noH2
	if f.insecure {
		cfg.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	return cfg
}

// quickConfig builds the test of surge run --url.
func (f *runFlags) quickConfig() (runner.Config, error) {
	exec, err := f.executor()
	if err != nil {
		return runner.Config{}, err
	}
	body := []byte(f.body)
	if f.bodyFile != "" {
		if body, err = os.ReadFile(f.bodyFile); err != nil {
			return runner.Config{}, usageErrorf("--body-file: %w", err)
		}
	}
	hdr := http.Header{}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return runner.Config{}, usageErrorf("--header %q: want 'Name: value'", h)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	req := &httpc.Request{Method: strings.ToUpper(f.method), URL: f.url, Header: hdr, Body: body}
	if _, err := req.Prepare(); err != nil {
		return runner.Config{}, usageErrorf("--url: %w", err)
	}
	hc := f.httpConfig()
	hc.DiscardBody = !f.keepBodies
	name := f.name
	if name == "" {
		name = f.url
	}
	sc := &engine.Scenario{Name: "default", Executor: exec, GracefulStop: f.gracefulStop,
		NewVU: func(st *vu.State) (engine.VU, error) { return httpvu.NewFixedVU(st, hc, req, name), nil }}
	return runner.Config{Scenarios: []*engine.Scenario{sc}}, nil
}

// stageCuts returns the stage boundaries of the first ramping scenario and
// each stage's target, so that one profile is recorded per stage.
func stageCuts(scs []*engine.Scenario) ([]time.Duration, []float64) {
	for _, sc := range scs {
		var stages []engine.Stage
		switch e := sc.Executor.(type) {
		case engine.RampingVUs:
			stages = e.Stages
		case engine.RampingArrivalRate:
			stages = e.Stages
		}
		if len(stages) == 0 {
			continue
		}
		var cuts []time.Duration
		var targets []float64
		at := sc.StartTime
		for i, st := range stages {
			at += st.Duration
			targets = append(targets, st.Target)
			if i < len(stages)-1 {
				cuts = append(cuts, at)
			}
		}
		return cuts, targets
	}
	return nil, []float64{1}
}

// cutFlag removes --name VALUE (or --name=VALUE, -name …) from args.
func cutFlag(args []string, name string) (value string, rest []string, found bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--" + name, "-" + name} {
			if a == p && i+1 < len(args) {
				return args[i+1], append(append([]string{}, args[:i]...), args[i+2:]...), true
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v, append(append([]string{}, args[:i]...), args[i+1:]...), true
			}
		}
	}
	return "", args, false
}

// saveResult saves a finished run for surge report and surge compare
// (--save, default .surge/runs/; --no-save). A failure to save is a
// warning: the run itself succeeded.
func saveResult(cmd string, f *runFlags, sum *report.Summary, reg *metrics.Registry, stdout, stderr io.Writer) {
	if f.noSave || f.save == "" {
		return
	}
	path := f.save
	if !strings.HasSuffix(path, ".json.gz") {
		path = result.DefaultPath(path, sum.Start)
	}
	if err := result.New(sum, reg, Version, flagConfig(f)).Save(path); err != nil {
		fmt.Fprintf(stderr, "surge %s: warning: %v\n", cmd, err)
	} else if !f.noSummary {
		fmt.Fprintf(stdout, "  result saved to %s (surge report / surge compare read it)\n", path)
	}
}

func parseTrendStats(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, st := range strings.Split(s, ",") {
		st = strings.TrimSpace(st)
		if !report.ValidTrendStat(st) {
			return nil, usageErrorf("--summary-trend-stats: unknown statistic %q (use avg, min, med, max, count, p(N))", st)
		}
		out = append(out, st)
	}
	return out, nil
}
