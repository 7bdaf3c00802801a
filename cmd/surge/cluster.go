package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/cluster"
	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/js"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/output"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/threads"
)

func init() {
	register(command{name: "master", summary: "coordinate a distributed run: ship the test to workers, merge their results", run: masterCmd})
	register(command{name: "worker", summary: "generate load for a surge master", run: workerCmd})
}

// DefaultClusterListen is where surge master listens by default.
const DefaultClusterListen = "127.0.0.1:6565"

// bodyFileName is where a --body-file travels inside the bundle.
const bodyFileName = "_surge_body"

type masterFlags struct {
	listen, token, onLoss      string
	expect                     int
	wait                       time.Duration
	tlsCert, tlsKey, tlsClient string
}

func (m *masterFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&m.listen, "listen", DefaultClusterListen, "address to listen on for workers (use 0.0.0.0:6565 to accept remote workers)")
	fs.StringVar(&m.token, "token", "", "shared secret the workers must present (required; or SURGE_TOKEN)")
	fs.IntVar(&m.expect, "expect-workers", 1, "start the test when this many workers are ready")
	fs.DurationVar(&m.wait, "wait-timeout", cluster.DefaultWaitTimeout, "give up if the workers are not ready within this time")
	fs.StringVar(&m.onLoss, "on-worker-loss", cluster.Redistribute, "when a worker is lost: redistribute (its share goes to the others), continue, or abort")
	fs.StringVar(&m.tlsCert, "tls-cert", "", "TLS certificate of the master (PEM)")
	fs.StringVar(&m.tlsKey, "tls-key", "", "TLS private key of the master (PEM)")
	fs.StringVar(&m.tlsClient, "tls-client-ca", "", "mutual TLS: accept only workers with a certificate signed by this CA (PEM)")
}

func masterCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f runFlags
	var mf masterFlags
	fs := newFlagSet("master")
	f.define(fs)
	mf.define(fs)
	if err := applyDefaults(fs, args, os.Getenv); err != nil {
		return err
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := mf.validate(); err != nil {
		return err
	}
	if err := refuseAttach(&f); err != nil {
		return err
	}
	if f.report != "" && writeHTMLReport == nil {
		return usageErrorf("--report: this build has no HTML report")
	}
	b, err := masterBundle(fs, &f)
	if err != nil {
		return err
	}
	tlsCfg, err := cluster.ServerTLS(mf.tlsCert, mf.tlsKey, mf.tlsClient)
	if err != nil {
		return usageErrorf("%w", err)
	}
	ths, err := parseThresholds(f.thresholds)
	if err != nil {
		return err
	}
	if err := checkThresholdMetrics(ths); err != nil {
		return err
	}
	trend, err := parseTrendStats(f.trendStats)
	if err != nil {
		return err
	}
	outs, err := parseOuts(f.outs)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	live := isTerminal(stderr) && !f.quiet
	script, err := masterScript(ctx, fs, &f, reg, clearLine(stderr, live))
	if err != nil {
		return err
	}
	if script != nil {
		defer script.Close()
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	halt := &dashboardStop{cancel: cancelRun, log: clearLine(stderr, live)}
	board := &workerBoard{stop: halt.Stop}
	dashTick, dashFinish, err := masterDashboard(ctx, &f, reg, stderr, board)
	if err != nil {
		return err
	}
	var outErr error
	mc := cluster.MasterConfig{
		Listen: mf.listen, Token: mf.token, Version: Version, TLS: tlsCfg,
		ExpectWorkers: mf.expect, WaitTimeout: mf.wait, Bundle: b, OnLoss: mf.onLoss,
		Thresholds: ths, Warmup: f.warmup, Registry: reg, Log: clearLine(stderr, live),
		OnTick: func(reg *metrics.Registry, now time.Time) {
			for _, o := range outs {
				if e := o.Tick(reg, now); e != nil && outErr == nil {
					outErr = e
				}
			}
			if live {
				fmt.Fprintf(stderr, "\r\x1b[K  %s", cluster.StatusLine(reg, now))
			}
			dashTick(now)
		},
		OnWorkers: board.update,
	}
	lifecycle(&mc, script)
	o, err := cluster.RunMaster(runCtx, mc)
	if live {
		fmt.Fprint(stderr, "\r\x1b[K")
	}
	if err != nil {
		dashFinish(nil)
		return scriptErr(fmt.Errorf("distributed run: %w", err))
	}
	halt.mark(ctx, o.Result)
	outErr = errors.Join(outErr, o.TeardownErr)
	if len(trend) == 0 {
		trend = o.TrendStats
	}
	sum := report.Build(reg, o.Result, trend)
	cluster.Decorate(sum, o)
	for _, out := range outs {
		outErr = errors.Join(outErr, out.Close(sum))
	}
	if f.summaryExport != "" {
		outErr = errors.Join(outErr, writeTo(f.summaryExport, sum.WriteK6JSON))
	}
	handled, err := masterHandleSummary(ctx, script, sum, stdout, stderr)
	outErr = errors.Join(outErr, err)
	if !f.noSummary && !handled {
		color := isTerminal(stdout) && !f.noColor && os.Getenv("NO_COLOR") == ""
		outErr = errors.Join(outErr, sum.WriteText(stdout, report.TextOptions{Color: color}))
	}
	if f.report != "" {
		if err := writeHTMLReport(f.report, sum, reg, &f); err != nil {
			outErr = errors.Join(outErr, fmt.Errorf("writing report: %w", err))
		}
	}
	dashFinish(sum)
	saveResult("master", &f, sum, reg, stdout, stderr)
	if outErr != nil {
		return outErr
	}
	return clusterExit(o, &f)
}

// refuseAttach refuses the run flags that profile the system under test
// or read its SQL: on a master they would profile the wrong moment from
// the wrong machine, so they are refused rather than half-working.
func refuseAttach(f *runFlags) error {
	if f.profilePID != 0 || f.profileURL != "" || f.pg != "" || f.pgExplain {
		return usageErrorf("--profile-pid, --profile-url, --pg and --pg-explain do not work with surge master: while the distributed run goes, profile the service with 'surge profile record --pid PID' (or --url) and watch its SQL with 'surge db top --dsn URL --window D'")
	}
	return nil
}

// masterScript loads the script on the master, into the merged registry
// (so the HTTP metrics of setup() count in the results, as in a local
// run), for setup(), teardown() and handleSummary(), which run here once
// for the whole cluster. The scenarios are built too, only to find a bad
// script or flag before any worker connects. It returns nil for a quick
// --url test.
func masterScript(ctx context.Context, fs *flag.FlagSet, f *runFlags, reg *metrics.Registry, stderr io.Writer) (*js.Script, error) {
	if fs.NArg() == 0 {
		return nil, nil
	}
	s, err := js.Load(ctx, fs.Arg(0), js.Config{
		Registry: reg, Stderr: stderr, HTTP: f.httpConfig(),
		IncludeTags: f.includeTags, ExcludeTags: f.excludeTags,
		InitTimeout: scriptInitTimeout,
	})
	if err != nil {
		return nil, scriptErr(err)
	}
	if err := checkScript(s, f); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkScript builds the script's scenarios and thresholds with the
// flags, as the workers will, for the errors alone.
func checkScript(s *js.Script, f *runFlags) error {
	override, err := flagExecutor(f, s)
	if err != nil {
		return err
	}
	scens, err := s.Scenarios(override, f.gracefulStop)
	if err != nil {
		return scriptErr(err)
	}
	if err := runner.CheckWarmup(scens, f.warmup); err != nil {
		return withCode(ExitUsage, err)
	}
	if _, err := s.Options.ThresholdList(); err != nil {
		return withCode(ExitScript, err)
	}
	return nil
}

// lifecycle makes the master run the script's setup() once when the
// workers are ready (its data goes to every worker) and teardown(data)
// once at the end.
func lifecycle(mc *cluster.MasterConfig, s *js.Script) {
	if s == nil {
		return
	}
	if slices.Contains(s.Exports(), "setup") {
		mc.Setup = func(ctx context.Context) (string, error) {
			if err := s.Setup(ctx); err != nil {
				return "", err
			}
			return s.SetupData(), nil
		}
	}
	mc.Teardown = s.Teardown
}

// masterHandleSummary runs the script's handleSummary() with the merged
// summary, as surge run does: handled means the text summary is not
// printed.
func masterHandleSummary(ctx context.Context, s *js.Script, sum *report.Summary, stdout, stderr io.Writer) (bool, error) {
	if s == nil || !s.HasHandleSummary() {
		return false, nil
	}
	var buf bytes.Buffer
	if err := sum.WriteSummaryData(&buf); err != nil {
		return false, err
	}
	return s.HandleSummary(context.WithoutCancel(ctx), buf.Bytes(), stdout, stderr)
}

// workerBoard connects the master to its dashboard. It carries the
// master's per-worker view to the Workers tab (serveDashboard sets show,
// and the master's loop calls update every second and while it waits for
// its workers), and the page's Stop button to stop, which ends the run.
type workerBoard struct {
	show func(now time.Time, ws []cluster.WorkerView)
	stop func()
}

func (b *workerBoard) update(now time.Time, ws []cluster.WorkerView) {
	if b.show != nil {
		b.show(now, ws)
	}
}

// masterDashboard serves the live dashboard of the merged registry for
// --dashboard, with the Workers tab fed through board. Its Stop calls
// board.stop; its users form and reset are refused, as the master has no
// engine control. Without --dashboard both functions do nothing.
func masterDashboard(ctx context.Context, f *runFlags, reg *metrics.Registry, stderr io.Writer, board *workerBoard) (func(time.Time), func(*report.Summary), error) {
	if f.dashboard.addr == "" {
		return func(time.Time) {}, func(*report.Summary) {}, nil
	}
	if startDashboard == nil {
		return nil, nil, usageErrorf("--dashboard: this build has no dashboard")
	}
	onTick, finish, err := startDashboard(ctx, dashboardOptions{Addr: f.dashboard.addr, Token: f.dashboardToken,
		Registry: reg, Config: flagConfig(f), Stderr: stderr, Keep: f.dashboardKeep, Workers: board})
	if err != nil {
		return nil, nil, withCode(ExitUsage, fmt.Errorf("--dashboard: %w", err))
	}
	return onTick, finish, nil
}

// stoppedFromDashboard is the Aborted of a run ended by the dashboard's
// Stop, as surge run's engine words it.
const stoppedFromDashboard = "stopped from the dashboard"

// dashboardStop is the master dashboard's Stop: it cancels the run's
// context as Ctrl-C cancels the command's, so the workers stop gracefully,
// their last results are merged, and the summary, exports and
// handleSummary() follow as after Ctrl-C.
type dashboardStop struct {
	cancel  context.CancelFunc
	log     io.Writer
	pressed atomic.Bool
}

// Stop ends the run; it may be called any number of times, from any
// goroutine.
func (d *dashboardStop) Stop() {
	if !d.pressed.Swap(true) {
		fmt.Fprintln(d.log, "master: Stop was pressed on the dashboard")
	}
	d.cancel()
}

// mark records a run that Stop interrupted as surge run records one:
// aborted, stopped from the dashboard, not interrupted, so it exits 0
// rather than 105. A Ctrl-C (ctx ended), or an abort of the master's own,
// keeps its outcome.
func (d *dashboardStop) mark(ctx context.Context, res *engine.Result) {
	if d.pressed.Load() && ctx.Err() == nil && res.Interrupted {
		res.Aborted, res.Interrupted = stoppedFromDashboard, false
	}
}

// clusterExit maps the outcome to the exit codes of surge run.
func clusterExit(o *cluster.Outcome, f *runFlags) error {
	res := o.Result
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

func (m *masterFlags) validate() error {
	switch {
	case m.token == "":
		return usageErrorf("--token is required (or SURGE_TOKEN): workers must present the same secret")
	case m.expect < 1:
		return usageErrorf("--expect-workers must be at least 1")
	}
	switch m.onLoss {
	case cluster.Redistribute, cluster.Continue, cluster.Abort:
		return nil
	}
	return usageErrorf("--on-worker-loss %q: want redistribute, continue or abort", m.onLoss)
}

// masterBundle builds the test bundle: the run flags that were set, and
// for a script its directory. The test is built once here, so bad flags
// fail before any worker connects.
func masterBundle(fs *flag.FlagSet, f *runFlags) (*cluster.Bundle, error) {
	b := &cluster.Bundle{Args: runArgs(fs)}
	if f.bodyFile != "" {
		data, err := os.ReadFile(f.bodyFile)
		if err != nil {
			return nil, usageErrorf("--body-file: %w", err)
		}
		b.Files = append(b.Files, cluster.File{Path: bodyFileName, Data: data})
		b.Args = append(b.Args, "--body-file="+bodyFileName)
	}
	switch {
	case fs.NArg() > 1:
		return nil, usageErrorf("one script at most (got %q)", fs.Args())
	case fs.NArg() == 1:
		if loadScript == nil {
			return nil, usageErrorf("scripts are not supported by this build yet; use --url")
		}
		path := fs.Arg(0)
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return nil, usageErrorf("script %q: not a readable file", path)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, usageErrorf("script %q: %w", path, err)
		}
		if err := b.AddDir(filepath.Dir(abs)); err != nil {
			return nil, usageErrorf("bundling the script: %w", err)
		}
		b.Script = filepath.Base(abs)
	case f.url == "":
		return nil, usageErrorf("nothing to run: give --url URL or a script")
	default:
		cfg, err := f.quickConfig()
		if err != nil {
			return nil, err
		}
		if err := runner.CheckWarmup(cfg.Scenarios, f.warmup); err != nil {
			return nil, withCode(ExitUsage, err)
		}
	}
	b.Seal()
	return b, nil
}

// runArgs lists the run flags that were set, in a form surge run parses.
// Flags that only matter on the master (outputs, config file) still
// travel; the worker ignores them.
func runArgs(fs *flag.FlagSet) []string {
	names := map[string]bool{}
	probe := newFlagSet("probe")
	(&runFlags{}).define(probe)
	probe.VisitAll(func(fl *flag.Flag) { names[fl.Name] = true })
	var out []string
	lists := map[*listFlag]bool{}
	fs.Visit(func(fl *flag.Flag) {
		if !names[fl.Name] || fl.Name == "config" || fl.Name == "body-file" {
			return
		}
		if l, ok := fl.Value.(*listFlag); ok {
			if !lists[l] { // -H and --header share one list
				lists[l] = true
				for _, v := range *l {
					out = append(out, "--"+fl.Name+"="+v)
				}
			}
			return
		}
		out = append(out, "--"+fl.Name+"="+fl.Value.String())
	})
	return out
}

func parseOuts(specs []string) ([]output.Output, error) {
	var outs []output.Output
	for _, spec := range specs {
		o, err := output.Parse(spec)
		if err != nil {
			return nil, usageErrorf("--out: %w", err)
		}
		outs = append(outs, o)
	}
	return outs, nil
}

type workerFlags struct {
	master, token, name                 string
	connect                             time.Duration
	useTLS                              bool
	tlsCA, tlsCert, tlsKey, tlsServName string
	deltaLog                            string
	index                               int
}

func (w *workerFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&w.master, "master", "", "the master's address HOST:PORT (required)")
	fs.StringVar(&w.token, "token", "", "the master's shared secret (required; or SURGE_TOKEN)")
	fs.StringVar(&w.name, "name", "", "this worker's name in the summary (default HOST-PID)")
	fs.DurationVar(&w.connect, "connect-timeout", cluster.DefaultConnectTimeout, "keep trying to reach the master this long")
	fs.BoolVar(&w.useTLS, "tls", false, "connect with TLS, verifying the master against the system's roots")
	fs.StringVar(&w.tlsCA, "tls-ca", "", "connect with TLS, verifying the master against this CA (PEM)")
	fs.StringVar(&w.tlsCert, "tls-cert", "", "mutual TLS: this worker's certificate (PEM)")
	fs.StringVar(&w.tlsKey, "tls-key", "", "mutual TLS: this worker's private key (PEM)")
	fs.StringVar(&w.tlsServName, "tls-server-name", "", "the name in the master's certificate, if not its host")
	fs.IntVar(&w.index, "worker-index", -1, "run segment I of the master's --expect-workers (a Kubernetes completion index; SURGE_WORKER_INDEX); default: in the order workers join")
	fs.StringVar(&w.deltaLog, "delta-log", "", "write every metric delta sent to the master to this file, one JSON line each (for debugging)")
}

func workerCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var wf workerFlags
	fs := newFlagSet("worker")
	wf.define(fs)
	if err := applyDefaults(fs, args, os.Getenv); err != nil {
		return err
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case wf.master == "":
		return usageErrorf("--master HOST:PORT is required")
	case wf.token == "":
		return usageErrorf("--token is required (or SURGE_TOKEN): the master's shared secret")
	case fs.NArg() > 0:
		return usageErrorf("unexpected argument %q: the master sends the test", fs.Arg(0))
	case wf.index < -1:
		return usageErrorf("--worker-index %d: want 0 or more (the master checks it against --expect-workers)", wf.index)
	}
	tlsCfg, err := cluster.ClientTLS(wf.useTLS, wf.tlsCA, wf.tlsCert, wf.tlsKey, wf.tlsServName)
	if err != nil {
		return usageErrorf("%w", err)
	}
	// setup() and teardown() run once on the master; the tests built here
	// take the master's setup data instead
	remote := &js.RemoteSetup{}
	cfg := cluster.WorkerConfig{Master: wf.master, Token: wf.token, Name: wf.name, Version: Version, TLS: tlsCfg,
		ConnectTimeout: wf.connect, Log: stderr, SetupData: remote.Set,
		Load: func(ctx context.Context, b *cluster.Bundle, dir string) (runner.Config, error) {
			return bundleConfig(js.WithRemoteSetup(ctx, remote), b, dir, stderr)
		}}
	if wf.index >= 0 {
		cfg.Index = &wf.index
	}
	if wf.deltaLog != "" {
		f, err := os.Create(wf.deltaLog)
		if err != nil {
			return fmt.Errorf("--delta-log: %w", err)
		}
		defer f.Close()
		cfg.DeltaLog = f
	}
	// as surge run: half the CPUs once the load goes to this machine
	choice := threads.Arm()
	defer choice.Release()
	res, err := cluster.RunWorker(ctx, cfg)
	if res != nil {
		fmt.Fprintf(stdout, "worker %s: %d runs, %d requests, %d iterations\n", res.Name, res.Runs, res.Requests, res.Iterations)
		if n := choice.Note(); n != "" {
			fmt.Fprintln(stdout, n)
		}
	}
	var refused *cluster.RefusedError
	if errors.As(err, &refused) {
		return withCode(ExitUsage, err)
	}
	return err
}

// bundleConfig builds a worker's test from the bundle written under dir,
// with the same code as surge run.
func bundleConfig(ctx context.Context, b *cluster.Bundle, dir string, stderr io.Writer) (runner.Config, error) {
	var f runFlags
	fs := newFlagSet("run")
	f.define(fs)
	if err := parseFlags(fs, b.Args, io.Discard); err != nil {
		return runner.Config{}, fmt.Errorf("the master's run flags: %w", err)
	}
	if f.bodyFile != "" && !filepath.IsAbs(f.bodyFile) {
		f.bodyFile = filepath.Join(dir, f.bodyFile)
	}
	var cfg runner.Config
	var err error
	if b.Script != "" {
		if loadScript == nil {
			return runner.Config{}, errors.New("this worker's build cannot run scripts")
		}
		cfg, err = loadScript(ctx, filepath.Join(dir, filepath.FromSlash(b.Script)), &f, stderr, stderr)
	} else {
		cfg, err = f.quickConfig()
	}
	if err != nil {
		return runner.Config{}, err
	}
	if cfg.Tags, err = parseTags(f.tags); err != nil {
		return runner.Config{}, err
	}
	return cfg, nil
}

// clearLine makes log lines replace the live status line on a terminal.
func clearLine(w io.Writer, live bool) io.Writer {
	if !live {
		return w
	}
	return writerFunc(func(b []byte) (int, error) {
		if _, err := io.WriteString(w, "\r\x1b[K"); err != nil {
			return 0, err
		}
		return w.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
