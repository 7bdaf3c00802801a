package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// Options configure a run.
type Options struct {
	Registry   *metrics.Registry
	Scenarios  []*Scenario
	Thresholds []*metrics.Threshold
	Warmup     time.Duration     // the load's first part, kept out of the results (not setup's samples)
	Tags       map[string]string // added to every sample
	// OnTick is called after every registry tick, from the ticking goroutine.
	OnTick func(now time.Time)
	// Control, when set, lets a dashboard steer the run.
	Control *Control
	// TickInterval defaults to one second.
	TickInterval time.Duration
}

// Result is how a run ended.
type Result struct {
	Start, End  time.Time
	Thresholds  []ThresholdResult
	Interrupted bool   // the caller's context was cancelled (Ctrl-C)
	Aborted     string // why the run was aborted early (abortOnFail, test.abort), "" if not
	Iterations  int64  // completed iterations
	Exceptions  int64  // iterations that ended in an error
	Interrupts  int64  // iterations cut off by a stop
	Dropped     int64  // arrivals due but never started
}

// Failed reports whether any threshold failed.
func (r *Result) Failed() bool {
	for _, t := range r.Thresholds {
		if !t.Pass {
			return true
		}
	}
	return false
}

// ThresholdResult is a threshold with its last evaluation.
type ThresholdResult struct {
	*metrics.Threshold
	Observed float64
	Pass     bool
	Err      error // the metric does not exist, or has no such aggregation
}

// AbortError ends the whole run when an iteration returns it (k6's
// test.abort()).
type AbortError struct{ Reason string }

func (e *AbortError) Error() string { return "test aborted: " + e.Reason }

// Locator is implemented by errors that know where in a script they
// happened, so the summary can show each distinct exception with its line.
type Locator interface{ Location() string }

// run is the state of one Run call.
type run struct {
	opts    Options
	reg     *metrics.Registry
	ctx     context.Context
	cancel  context.CancelFunc
	start   time.Time
	nextID  atomic.Int64
	scens   []*scenarioRun
	abortMu sync.Mutex
	aborted string

	iterations, exceptions, interrupts, dropped atomic.Int64
}

// Run runs the scenarios to completion, or until ctx is cancelled or a
// threshold with abortOnFail fails. It returns an error only for problems
// that prevent a meaningful result (a VU that cannot be created).
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Registry == nil {
		opts.Registry = metrics.NewRegistry()
	}
	if len(opts.Scenarios) == 0 {
		return nil, errors.New("nothing to run: no scenarios")
	}
	names := map[string]bool{}
	for _, sc := range opts.Scenarios {
		if sc.Name == "" {
			sc.Name = "default"
		}
		if names[sc.Name] {
			return nil, fmt.Errorf("scenario %q is defined twice", sc.Name)
		}
		names[sc.Name] = true
		if sc.Executor == nil {
			return nil, fmt.Errorf("scenario %q: no executor", sc.Name)
		}
		if err := sc.Executor.validate(); err != nil {
			return nil, fmt.Errorf("scenario %q (%s): %w", sc.Name, sc.Executor.Name(), err)
		}
		if sc.NewVU == nil {
			return nil, fmt.Errorf("scenario %q: nothing to execute", sc.Name)
		}
	}
	r := &run{opts: opts, reg: opts.Registry}
	r.ctx, r.cancel = context.WithCancel(ctx)
	defer r.cancel()
	if opts.Control != nil {
		opts.Control.attach(r.cancel, StageMarks(opts.Scenarios))
	}
	for _, sc := range opts.Scenarios {
		r.scens = append(r.scens, newScenarioRun(r, sc))
	}
	// k6 initializes VUs before the clock starts, so init cost is not load.
	for _, s := range r.scens {
		if err := s.preInit(); err != nil {
			return nil, err
		}
	}
	r.start = time.Now()
	r.reg.Start(r.start, opts.Warmup)
	r.setVUGauges()

	var wg sync.WaitGroup
	errc := make(chan error, len(r.scens))
	for _, s := range r.scens {
		wg.Add(1)
		go func(s *scenarioRun) {
			defer wg.Done()
			if err := s.run(); err != nil {
				errc <- err
				r.abort(err.Error())
			}
		}(s)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	res := r.loop(done)
	close(errc)
	if err := <-errc; err != nil {
		return res, err
	}
	return res, nil
}

// loop ticks the registry until the scenarios are done.
func (r *run) loop(done <-chan struct{}) *Result {
	every := r.opts.TickInterval
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var results []ThresholdResult
	for {
		select {
		case <-done:
			now := time.Now()
			r.setVUGauges()
			r.reg.Tick(now)
			results = r.evaluate(now)
			if r.opts.OnTick != nil {
				r.opts.OnTick(now)
			}
			res := &Result{
				Start: r.start, End: now, Thresholds: results,
				Iterations: r.iterations.Load(), Exceptions: r.exceptions.Load(),
				Interrupts: r.interrupts.Load(), Dropped: r.dropped.Load(),
			}
			r.abortMu.Lock()
			res.Aborted = r.aborted
			r.abortMu.Unlock()
			res.Interrupted = res.Aborted == "" && r.ctx.Err() != nil
			if r.opts.Control.Stopped() {
				res.Aborted = "stopped from the dashboard"
				res.Interrupted = false
			}
			return res
		case now := <-tick.C:
			r.setVUGauges()
			r.reg.Tick(now)
			results = r.evaluate(now)
			for _, t := range results {
				if !t.Pass && t.AbortOnFail && now.Sub(r.start) >= t.DelayAbortEval {
					r.abort(fmt.Sprintf("threshold %s: %s failed (observed %.4g) and has abortOnFail", t.MetricName(), t.Source, t.Observed))
				}
			}
			if r.opts.OnTick != nil {
				r.opts.OnTick(now)
			}
		}
	}
}

func (r *run) abort(reason string) {
	r.abortMu.Lock()
	if r.aborted == "" {
		r.aborted = reason
	}
	r.abortMu.Unlock()
	r.cancel()
}

// Evaluate computes thresholds against the registry's totals. Exported for
// the summary of runs that did not go through Run (a distributed master).
func Evaluate(reg *metrics.Registry, ths []*metrics.Threshold, elapsed time.Duration) []ThresholdResult {
	out := make([]ThresholdResult, 0, len(ths))
	for _, t := range ths {
		res := ThresholdResult{Threshold: t}
		m := reg.Get(t.Metric)
		switch {
		case m == nil:
			res.Err = fmt.Errorf("no metric called %q", t.Metric)
		default:
			if err := t.Check(m); err != nil {
				res.Err = err
				break
			}
			res.Observed = t.Observe(reg.Total(m, t.Filter...), elapsed)
			res.Pass = t.Pass(res.Observed)
		}
		out = append(out, res)
	}
	return out
}

func (r *run) evaluate(now time.Time) []ThresholdResult {
	elapsed := now.Sub(r.start) - r.opts.Warmup
	return Evaluate(r.reg, r.opts.Thresholds, elapsed)
}

func (r *run) setVUGauges() {
	var active, max int64
	for _, s := range r.scens {
		active += s.active.Load()
		max += s.created.Load()
	}
	r.reg.Set(r.reg.Builtin.VUs, nil, float64(active))
	r.reg.Set(r.reg.Builtin.VUsMax, nil, float64(max))
	if r.opts.Control != nil {
		r.opts.Control.setMix(r.userMix())
	}
}
