// Package runner runs one load test end to end: the engine, the outputs
// that stream while it runs, the live status line, and at the end the
// summary, the summary export and the output files. The CLI and the public
// Go API both call it, so a test written in Go and one run from flags
// produce the same results and files.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/output"
	"github.com/surgeload/surge/internal/report"
)

// Config is one load test and where its results go.
type Config struct {
	Registry      *metrics.Registry // nil: a new one
	Scenarios     []*engine.Scenario
	Thresholds    []*metrics.Threshold
	Warmup        time.Duration
	Tags          map[string]string
	TrendStats    []string
	Outs          []string // --out values: json=FILE, csv=PREFIX
	SummaryExport string   // k6-compatible JSON summary file
	NoSummary     bool     // print no end summary
	Color         bool
	Progress      bool          // a live status line on Status, redrawn in place (a terminal)
	ProgressEvery time.Duration // without Progress: one status line this often (0: none), for CI logs
	Stdout        io.Writer     // the summary
	Status        io.Writer     // the live status line (stderr)
	// Control lets a dashboard steer the run (nil: not steerable).
	Control *engine.Control
	// Attach records profiles and SQL of the system under test.
	Attach *Attach
	// AfterLoad runs when the load has ended, before the summary (a
	// script's teardown). What it records counts in the results and the
	// thresholds; its error is reported with them.
	AfterLoad func(ctx context.Context) error
	// HandleSummary, when set, may take over the end summary (a script's
	// handleSummary): handled true means the text summary is not printed.
	HandleSummary func(ctx context.Context, sum *report.Summary) (handled bool, err error)
	// Notes, when set, adds sentences to the summary's notes when the load
	// has ended (how the run was set up, as decided during it).
	Notes func() []string
	// OnTick is called after each registry tick (dashboards, exporters).
	OnTick func(reg *metrics.Registry, now time.Time)
}

// Run executes the test and writes every result. The summary is returned
// even when writing an output failed, and that error is returned with it.
func Run(ctx context.Context, cfg Config) (*report.Summary, *engine.Result, error) {
	reg := cfg.Registry
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	if err := CheckWarmup(cfg.Scenarios, cfg.Warmup); err != nil {
		return nil, nil, err
	}
	var total time.Duration
	for _, sc := range cfg.Scenarios {
		total = max(total, sc.StartTime+sc.Executor.Length())
	}
	outs := make([]output.Output, 0, len(cfg.Outs))
	for _, spec := range cfg.Outs {
		o, err := output.Parse(spec)
		if err != nil {
			return nil, nil, &ConfigError{err}
		}
		outs = append(outs, o)
	}
	var at *attachment
	if cfg.Attach.active() {
		a, err := startAttach(ctx, cfg.Attach)
		if err != nil {
			return nil, nil, err
		}
		at = a
	}
	prog := &progress{w: cfg.Status, on: cfg.Status != nil && (cfg.Progress || cfg.ProgressEvery > 0), inPlace: cfg.Progress, every: cfg.ProgressEvery, total: total}
	var outErr error
	// publish hands a registry tick to the outputs and the caller.
	publish := func(now time.Time) {
		for _, o := range outs {
			if e := o.Tick(reg, now); e != nil && outErr == nil {
				outErr = e
			}
		}
		if cfg.OnTick != nil {
			cfg.OnTick(reg, now)
		}
	}
	res, err := engine.Run(ctx, engine.Options{
		Registry: reg, Scenarios: cfg.Scenarios, Thresholds: cfg.Thresholds,
		Warmup: cfg.Warmup, Tags: cfg.Tags, Control: cfg.Control,
		OnTick: func(now time.Time) {
			prog.tick(reg, now)
			if at != nil {
				at.tick(now.Sub(reg.StartTime()))
			}
			publish(now)
		},
	})
	prog.done()
	if err != nil && res == nil {
		return nil, nil, err
	}
	if cfg.AfterLoad != nil {
		outErr = errors.Join(outErr, afterLoad(context.WithoutCancel(ctx), cfg, reg, res, publish))
	}
	sum := report.Build(reg, res, cfg.TrendStats)
	if cfg.Notes != nil {
		sum.Notes = append(sum.Notes, cfg.Notes()...)
	}
	if at != nil {
		outErr = errors.Join(outErr, at.finish(context.WithoutCancel(ctx), sum))
	}
	for _, o := range outs {
		outErr = errors.Join(outErr, o.Close(sum))
	}
	if cfg.SummaryExport != "" {
		outErr = errors.Join(outErr, writeFile(cfg.SummaryExport, sum.WriteK6JSON))
	}
	handled := false
	if cfg.HandleSummary != nil {
		h, err := cfg.HandleSummary(context.WithoutCancel(ctx), sum)
		handled, outErr = h, errors.Join(outErr, err)
	}
	if !cfg.NoSummary && !handled && cfg.Stdout != nil {
		outErr = errors.Join(outErr, sum.WriteText(cfg.Stdout, report.TextOptions{Color: cfg.Color}))
	}
	return sum, res, errors.Join(err, outErr)
}

// afterLoad runs cfg.AfterLoad and counts what it recorded, as setup's
// samples are counted and as k6 counts teardown's: the engine's last tick
// is over, so it ticks the registry once more, publishes that tick and
// judges the thresholds again. The run's duration stays the load's,
// which setup's time is not part of either.
func afterLoad(ctx context.Context, cfg Config, reg *metrics.Registry, res *engine.Result, publish func(time.Time)) error {
	err := cfg.AfterLoad(ctx)
	now := time.Now()
	reg.TickAfterLoad(now)
	res.Thresholds = engine.Evaluate(reg, cfg.Thresholds, res.End.Sub(res.Start)-cfg.Warmup)
	publish(now)
	return err
}

// CheckWarmup refuses a warm-up that would hold the whole load of
// scenarios that last a fixed time, so a run that would measure nothing
// does not start. (A run of iterations may end early; its summary says so
// when the load ended inside the warm-up.)
func CheckWarmup(scs []*engine.Scenario, warmup time.Duration) error {
	var total time.Duration
	for _, sc := range scs {
		total = max(total, sc.StartTime+sc.Executor.Length())
	}
	if warmup > 0 && warmup >= total && fixedLength(scs) {
		return &ConfigError{fmt.Errorf("--warmup %s is not shorter than the test (%s): nothing of the load would be measured", warmup, total)}
	}
	return nil
}

// fixedLength reports whether every scenario lasts exactly its Length
// (a duration or stages), not at most (iterations, a load shape).
func fixedLength(scs []*engine.Scenario) bool {
	for _, sc := range scs {
		switch sc.Executor.(type) {
		case engine.ConstantVUs, *engine.ConstantVUs, engine.RampingVUs, *engine.RampingVUs,
			engine.ConstantArrivalRate, *engine.ConstantArrivalRate, engine.RampingArrivalRate, *engine.RampingArrivalRate:
		default:
			return false
		}
	}
	return true
}

// ConfigError is a mistake in the test's configuration, found before it ran.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// progress draws one status line, redrawn in place on a terminal, or
// printed as a new line every so often in a log.
type progress struct {
	w       io.Writer
	on      bool
	inPlace bool
	every   time.Duration
	last    time.Time
	total   time.Duration
	drawn   bool
}

func (p *progress) tick(reg *metrics.Registry, now time.Time) {
	if !p.on {
		return
	}
	if !p.inPlace {
		if p.last.IsZero() {
			p.last = reg.StartTime()
		}
		if now.Sub(p.last) < p.every {
			return
		}
		p.last = now
	}
	b := reg.Builtin
	el := now.Sub(reg.StartTime()).Truncate(time.Second)
	var rps, vus, p95, failed, reqs float64
	cur := int(now.Sub(reg.StartTime()) / time.Second)
	for _, se := range reg.Series() {
		if len(se.Points) == 0 {
			continue
		}
		last := se.Points[len(se.Points)-1]
		if last.Second+last.Width() < cur && se.Metric != b.VUs {
			continue // a series that stopped recording is not this second's
		}
		switch se.Metric {
		case b.HTTPReqs:
			rps += last.Sum
		case b.VUs:
			vus = last.Last
		case b.HTTPReqDuration:
			p95 = max(p95, last.P95)
		case b.HTTPReqFailed:
			failed += float64(last.Nonzero)
			reqs += float64(last.Count)
		}
	}
	errPct := 0.0
	if reqs > 0 {
		errPct = 100 * failed / reqs
	}
	line := fmt.Sprintf("running %s/%s  VUs %.0f  %.0f req/s  p95 %.2fms  errors %.2f%%", el, p.total.Truncate(time.Second), vus, rps, p95, errPct)
	if p.inPlace {
		fmt.Fprintf(p.w, "\r\x1b[K  %s", line)
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "surge: %s\n", line)
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
