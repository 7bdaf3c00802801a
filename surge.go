// Package surge is the Go API of the surge load tester: a load test written
// in Go, with the same executors, metrics, thresholds, summary and exports as
// `surge run`.
//
// A test is a list of scenarios. A scenario is driven by an executor (k6's
// names: ConstantVUs, RampingVUs, ConstantArrivalRate …, or Locust's Shape)
// and runs either one Exec function per iteration (k6's default function) or
// a mix of Users (Locust's user classes: weight or fixed count, on-start and
// on-stop hooks, weighted and tagged tasks, wait times).
//
//	test := surge.Test{
//		Scenarios: []surge.Scenario{{
//			Executor: surge.ConstantVUs{VUs: 50, Duration: 30 * time.Second},
//			Users: []surge.User{{
//				Wait:    surge.Between(time.Second, 3*time.Second),
//				OnStart: login,
//				Tasks: []surge.Task{
//					{Name: "list", Weight: 10, Fn: listItems},
//					{Name: "create", Weight: 1, Fn: createItem},
//				},
//			}},
//		}},
//		Thresholds: map[string][]string{"http_req_duration": {"p(95)<500"}},
//	}
//	res, err := surge.Run(ctx, test)
//
// Everything else of surge lives in internal packages; this package is the
// whole public surface.
package surge

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/htmlreport"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/runner"
)

// Executors, with k6's parameters. See the engine's documentation for the
// semantics of each.
type (
	Executor            = engine.Executor
	Stage               = engine.Stage
	ConstantVUs         = engine.ConstantVUs
	RampingVUs          = engine.RampingVUs
	PerVUIterations     = engine.PerVUIterations
	SharedIterations    = engine.SharedIterations
	ConstantArrivalRate = engine.ConstantArrivalRate
	RampingArrivalRate  = engine.RampingArrivalRate
	Shape               = engine.Shape
	ShapeTick           = engine.ShapeTick
)

// Test is a whole load test.
type Test struct {
	Scenarios []Scenario
	// Thresholds map a metric (or sub-metric, "http_req_duration{name:login}")
	// to expressions in k6's syntax: "p(95)<500", "rate<0.01".
	Thresholds map[string][]string
	// Warmup keeps the first part of the run out of the results.
	Warmup time.Duration
	// Tags are added to every sample.
	Tags map[string]string
	// SummaryTrendStats chooses the trend columns of the summary.
	SummaryTrendStats []string
	// Out streams results: "json=FILE", "csv=PREFIX".
	Out []string
	// SummaryExport writes the k6-compatible JSON summary to this file.
	SummaryExport string
	// Output receives the end summary; nil means os.Stdout, io.Discard
	// silences it.
	Output io.Writer
	// IncludeTags and ExcludeTags select tasks by tag (Locust's --tags and
	// --exclude-tags).
	IncludeTags, ExcludeTags []string
}

// Scenario is one workload.
type Scenario struct {
	Name         string
	Executor     Executor
	StartTime    time.Duration
	GracefulStop time.Duration
	Tags         map[string]string
	// Exec runs once per iteration (k6's default function). Set Exec or Users.
	Exec func(v *VU) error
	// Users are Locust-style user kinds, mixed by Weight or FixedCount.
	Users []User
}

// Result is a finished run.
type Result struct {
	summary *report.Summary
	res     *engine.Result
	reg     *metrics.Registry
	config  map[string]string
}

// WriteReport writes the self-contained HTML report of the run to path.
func (r *Result) WriteReport(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	o := htmlreport.Options{Config: r.config, Env: htmlreport.CurrentEnvironment("go-api")}
	if err := htmlreport.Write(f, r.summary, r.reg, o); err != nil {
		f.Close()
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return f.Close()
}

// Save writes the result file that `surge report` and `surge compare` read
// (gzipped JSON: summary, histograms and per-second series).
func (r *Result) Save(path string) error {
	return result.New(r.summary, r.reg, "go-api", r.config).Save(path)
}

// Passed reports whether every threshold passed.
func (r *Result) Passed() bool { return !r.res.Failed() }

// Iterations is the number of completed iterations.
func (r *Result) Iterations() int64 { return r.res.Iterations }

// Dropped is the number of arrivals that were due but never started.
func (r *Result) Dropped() int64 { return r.res.Dropped }

// Exceptions is the number of iterations that ended in an error.
func (r *Result) Exceptions() int64 { return r.res.Exceptions }

// Metric returns a metric's summary values under k6's keys (count, rate,
// avg, min, med, max, p(90), p(95), p(99), value, passes, fails), times in
// milliseconds; nil when the metric recorded nothing. Sub-metrics named in
// thresholds are available by their full name.
func (r *Result) Metric(name string) map[string]float64 {
	if m := r.summary.Metric(name); m != nil {
		return m.Values
	}
	return nil
}

// WriteSummary writes the text summary again.
func (r *Result) WriteSummary(w io.Writer) error {
	return r.summary.WriteText(w, report.TextOptions{})
}

// Run runs the test, prints the summary to t.Output and writes the exports.
// It returns an error for a test that cannot run (bad threshold, no
// scenarios, a user with no tasks); failed thresholds are reported by
// Result.Passed, not as an error.
func Run(ctx context.Context, t Test) (*Result, error) {
	cfg, err := t.config()
	if err != nil {
		return nil, err
	}
	cfg.Registry = metrics.NewRegistry()
	sum, res, err := runner.Run(ctx, cfg)
	if res == nil {
		return nil, err
	}
	desc := map[string]string{}
	for _, sc := range t.Scenarios {
		desc["scenario "+sc.Name] = sc.Executor.Name()
	}
	return &Result{summary: sum, res: res, reg: cfg.Registry, config: desc}, err
}

func (t Test) config() (runner.Config, error) {
	cfg := runner.Config{Warmup: t.Warmup, Tags: t.Tags, TrendStats: t.SummaryTrendStats, Outs: t.Out, SummaryExport: t.SummaryExport, Stdout: t.Output}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	for sel, exprs := range t.Thresholds {
		for _, e := range exprs {
			th, err := metrics.ParseThreshold(sel, e)
			if err != nil {
				return cfg, err
			}
			cfg.Thresholds = append(cfg.Thresholds, th)
		}
	}
	if len(t.Scenarios) == 0 {
		return cfg, fmt.Errorf("surge: the test has no scenarios")
	}
	for i := range t.Scenarios {
		sc, err := t.Scenarios[i].build(t.IncludeTags, t.ExcludeTags)
		if err != nil {
			return cfg, err
		}
		cfg.Scenarios = append(cfg.Scenarios, sc)
	}
	return cfg, nil
}

func (s *Scenario) build(include, exclude []string) (*engine.Scenario, error) {
	name := s.Name
	if name == "" {
		name = "default"
	}
	if s.Executor == nil {
		return nil, fmt.Errorf("surge: scenario %q has no executor", name)
	}
	if (s.Exec == nil) == (len(s.Users) == 0) {
		return nil, fmt.Errorf("surge: scenario %q needs either Exec or Users", name)
	}
	users := s.Users
	if s.Exec != nil {
		exec := s.Exec
		users = []User{{Name: name, Tasks: []Task{{Name: name, Fn: exec}}}}
	}
	mix, err := newMix(users, include, exclude)
	if err != nil {
		return nil, fmt.Errorf("surge: scenario %q: %w", name, err)
	}
	_, closed := map[string]bool{"constant-arrival-rate": false, "ramping-arrival-rate": false}[s.Executor.Name()]
	return &engine.Scenario{
		Name: name, Executor: s.Executor, StartTime: s.StartTime, GracefulStop: s.GracefulStop, Tags: s.Tags,
		NewVU: mix.newVU(!closed),
	}, nil
}
