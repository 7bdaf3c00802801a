package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/js"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/vu"
)

func init() { loadScript = loadJSScript }

// loadJSScript compiles a k6-style script (or Locust-style users), runs
// setup, and turns its options, overridden by the flags, into a test.
// Flags that set the load (--vus, --duration, --iterations, --stage,
// --rate) replace the script's scenarios, as in k6.
func loadJSScript(ctx context.Context, path string, f *runFlags, stdout, stderr io.Writer) (runner.Config, error) {
	if _, err := os.Stat(path); err != nil {
		return runner.Config{}, usageErrorf("%s: no such script (want a .js or .ts file)", path)
	}
	reg := metrics.NewRegistry()
	hc := f.httpConfig()
	s, err := js.Load(ctx, path, js.Config{
		Registry: reg, Stderr: stderr, HTTP: hc,
		IncludeTags: f.includeTags, ExcludeTags: f.excludeTags,
		InitTimeout: scriptInitTimeout,
	})
	if err != nil {
		return runner.Config{}, scriptErr(err)
	}
	override, err := flagExecutor(f, s)
	if err != nil {
		return runner.Config{}, err
	}
	scens, err := s.Scenarios(override, f.gracefulStop)
	if err != nil {
		return runner.Config{}, scriptErr(err)
	}
	ths, err := s.Options.ThresholdList()
	if err != nil {
		return runner.Config{}, withCode(ExitScript, err)
	}
	for _, sc := range scens {
		newVU := sc.NewVU
		sc.NewVU = func(st *vu.State) (engine.VU, error) {
			v, err := newVU(st)
			return v, scriptErr(err)
		}
	}
	if err := runner.CheckWarmup(scens, f.warmup); err != nil {
		s.Close()
		return runner.Config{}, withCode(ExitUsage, err)
	}
	if err := s.Setup(ctx); err != nil {
		s.Close()
		return runner.Config{}, scriptErr(err)
	}
	tuneGC(scens)
	cfg := runner.Config{Registry: reg, Scenarios: scens, Thresholds: ths, AfterLoad: func(ctx context.Context) error {
		defer s.Close() // the script's SQL pools
		return s.Teardown(ctx)
	}}
	if s.HasHandleSummary() {
		cfg.HandleSummary = func(ctx context.Context, sum *report.Summary) (bool, error) {
			var buf bytes.Buffer
			if err := sum.WriteSummaryData(&buf); err != nil {
				return false, err
			}
			return s.HandleSummary(ctx, buf.Bytes(), stdout, stderr)
		}
	}
	if f.trendStats == "" {
		cfg.TrendStats = s.Options.SummaryTrendStats
	}
	return cfg, nil
}

// scriptInitTimeout bounds init code and setup; tests shorten it.
var scriptInitTimeout = js.DefaultInitTimeout

// scriptErr gives script errors (compile, init, setup) exit code 107.
func scriptErr(err error) error {
	var se *js.ScriptError
	if errors.As(err, &se) {
		return withCode(ExitScript, err)
	}
	return err
}

// flagExecutor is the executor the load flags describe, merged with the
// script's shortcut options, or nil when no load flag was given.
func flagExecutor(f *runFlags, s *js.Script) (engine.Executor, error) {
	if f.vus == 0 && f.duration == 0 && f.iterations == 0 && len(f.stages) == 0 && f.rate == 0 {
		return nil, nil
	}
	g := *f
	o := s.Options
	if g.vus == 0 {
		g.vus = o.VUs
	}
	if len(g.stages) == 0 && g.iterations == 0 && g.duration == 0 && g.rate == 0 {
		for _, st := range o.Stages {
			g.stages = append(g.stages, strings.TrimSpace(durString(st.Duration))+":"+ftoa(st.Target))
		}
		if len(g.stages) == 0 {
			g.iterations, g.duration = o.Iterations, durationOf(o.Duration)
		}
	}
	return g.executor()
}

func durString(d js.Duration) string { return durationOf(d).String() }

func durationOf(d js.Duration) time.Duration { return time.Duration(d) }

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// manyVUs is the VU count from which a script run trades some GC CPU for
// memory.
const manyVUs = 1000

// tuneGC lowers the garbage collector's heap growth for runs with many
// VUs (unless GOGC is set): most of their heap is live runtimes, and the
// default doubling would add a second copy's worth of RSS.
func tuneGC(scens []*engine.Scenario) {
	if os.Getenv("GOGC") != "" {
		return
	}
	n := 0
	for _, sc := range scens {
		n += sc.Executor.PeakVUs()
	}
	if n >= manyVUs {
		debug.SetGCPercent(50)
	}
}
