package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/clock"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

// scenarioRun is one scenario being executed.
type scenarioRun struct {
	r     *run
	sc    *Scenario
	tags  *metrics.TagSet
	start time.Time // set when the scenario starts
	// hard is cancelled when running iterations must stop: the run ended,
	// or the graceful stop after the scheduled end expired.
	hard       context.Context
	hardCancel context.CancelFunc

	mu      sync.Mutex
	slots   []*slot
	created atomic.Int64
	active  atomic.Int64
	classes classes // user classes of Classed VUs
}

// slot is one VU of a scenario, with its cached metric sinks.
type slot struct {
	idx     int
	st      *vu.State
	vu      VU
	life    Lifecycle
	started bool        // Lifecycle.Start ran and Stop has not
	class   *classCount // the class this user is counted in, if Classed

	iters, iterDur, lag *metrics.Agg

	mu        sync.Mutex
	ctx       context.Context    // iterations run under it until a cut-off cancels it
	cancelIt  context.CancelFunc // cancels ctx: the running iteration is cut off
	iterSeq   uint64
	timer     *time.Timer
	iterating bool
}

func newScenarioRun(r *run, sc *Scenario) *scenarioRun {
	tags := []metrics.Tag{{Key: "scenario", Value: sc.Name}}
	for k, v := range r.opts.Tags {
		tags = append(tags, metrics.Tag{Key: k, Value: v})
	}
	for k, v := range sc.Tags {
		tags = append(tags, metrics.Tag{Key: k, Value: v})
	}
	if sc.GracefulStop == 0 {
		sc.GracefulStop = DefaultGracefulStop
	}
	return &scenarioRun{r: r, sc: sc, tags: r.reg.Intern(tags...)}
}

// preInit creates the VUs the executor needs from the start.
func (s *scenarioRun) preInit() error {
	n := s.sc.Executor.PeakVUs()
	switch e := s.sc.Executor.(type) {
	case ConstantArrivalRate:
		n = max(e.PreAllocatedVUs, 1)
	case RampingArrivalRate:
		n = max(e.PreAllocatedVUs, 1)
	case Shape:
		n = 0 // users are created as the shape asks for them
	}
	for i := 0; i < n; i++ {
		if _, err := s.newSlot(); err != nil {
			return err
		}
	}
	return nil
}

// newSlot creates and initializes one more VU.
func (s *scenarioRun) newSlot() (*slot, error) {
	s.mu.Lock()
	idx := len(s.slots)
	s.slots = append(s.slots, nil)
	s.mu.Unlock()
	id := int(s.r.nextID.Add(1))
	st := vu.New(s.r.reg, id, idx, s.sc.Name, s.tags)
	v, err := s.sc.NewVU(st)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: initializing VU %d: %w", s.sc.Name, id, err)
	}
	b := s.r.reg.Builtin
	sl := &slot{idx: idx, st: st, vu: v,
		iters:   st.Shard.Sink(b.Iterations, s.tags),
		iterDur: st.Shard.Sink(b.IterationDuration, s.tags),
		lag:     st.Shard.Sink(b.IterationLag, s.tags),
	}
	sl.life, _ = v.(Lifecycle)
	s.mu.Lock()
	s.slots[idx] = sl
	s.mu.Unlock()
	s.created.Add(1)
	return sl, nil
}

// Closer is implemented by VUs that hold resources (connections) to release
// when the VU retires or the run ends.
type Closer interface{ Close() }

// retire drops an arrival-rate VU that is no longer needed.
func (s *scenarioRun) retire(sl *slot) {
	s.stopUser(sl)
	if c, ok := sl.vu.(Closer); ok {
		c.Close()
	}
	s.mu.Lock()
	s.slots[sl.idx] = nil
	s.mu.Unlock()
	s.created.Add(-1)
}

func (s *scenarioRun) slot(i int) *slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slots[i]
}

// run waits for the scenario's start time, then executes it.
func (s *scenarioRun) run() error {
	if d := s.sc.StartTime; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.r.ctx.Done():
			t.Stop()
			return nil
		}
	}
	s.start = time.Now()
	end := s.start.Add(s.sc.Executor.Length())
	s.hard, s.hardCancel = context.WithDeadline(s.r.ctx, end.Add(s.sc.GracefulStop))
	defer s.hardCancel()
	switch e := s.sc.Executor.(type) {
	case ConstantVUs:
		return s.closed(e.VUs, end, 0, nil)
	case PerVUIterations:
		return s.closed(e.VUs, end, e.Iterations, nil)
	case SharedIterations:
		var claimed atomic.Int64
		n := int64(e.Iterations)
		return s.closed(e.VUs, end, 0, func() bool { return claimed.Add(1) <= n })
	case RampingVUs:
		return s.ramping(end, e.GracefulRampDown, s.r.opts.Control.steered(func(t time.Duration) (int, float64, bool) {
			return int(RampAt(float64(e.StartVUs), e.Stages, t) + 1e-9), 0, false
		}, func() int { return 1 << 30 }))
	case Shape:
		return s.shape(e, end)
	case ConstantArrivalRate:
		return s.arrivals(NewConstantPacer(e.Rate, e.TimeUnit, e.Duration), e.Duration, e.PeakVUs(), max(e.PreAllocatedVUs, 1))
	case RampingArrivalRate:
		return s.arrivals(RatePacer{Start: e.StartRate, TimeUnit: e.TimeUnit, Stages: e.Stages}, e.Length(), e.PeakVUs(), max(e.PreAllocatedVUs, 1))
	}
	return fmt.Errorf("scenario %q: executor %s is not supported", s.sc.Name, s.sc.Executor.Name())
}

// closed runs n looping VUs until end. perVU > 0 bounds each VU's
// iterations; claim, when set, must say yes before each iteration.
func (s *scenarioRun) closed(n int, end time.Time, perVU int, claim func() bool) error {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sl := s.slot(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.active.Add(1)
			defer s.active.Add(-1)
			if !s.startUser(sl) {
				return
			}
			defer s.stopUser(sl)
			now := clock.Now()
			for k := 0; perVU == 0 || k < perVU; k++ {
				if !now.Before(end) || s.r.ctx.Err() != nil || (claim != nil && !claim()) {
					return
				}
				// a closed loop starts the next iteration as the last one
				// ends: its end is the next one's start
				now = s.iterate(sl, time.Time{}, now)
			}
		}()
	}
	wg.Wait()
	return nil
}

// startUser runs the VU's Start (Locust on_start). A failing Start counts as
// an exception and keeps the user out of the test.
func (s *scenarioRun) startUser(sl *slot) bool {
	if sl.life == nil || sl.started {
		s.joinClass(sl)
		return true
	}
	if err := sl.life.Start(s.hard); err != nil {
		s.recordError(err)
		return false
	}
	sl.started = true
	s.joinClass(sl)
	return true
}

func (s *scenarioRun) stopUser(sl *slot) {
	s.leaveClass(sl)
	if sl.life == nil || !sl.started {
		return
	}
	sl.started = false
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.hard), s.sc.GracefulStop)
	defer cancel()
	if err := sl.life.Stop(ctx); err != nil {
		s.recordError(err)
	}
}

// iterate runs one iteration on sl, due at due (zero: now), that started
// at start (zero: now), and returns when it ended.
func (s *scenarioRun) iterate(sl *slot, due, start time.Time) (end time.Time) {
	// One context per slot, replaced only after a cut-off: a context per
	// iteration would cost an allocation and, once cancelled, wake every
	// context.AfterFunc a protocol client registered on it.
	sl.mu.Lock()
	if sl.ctx == nil || sl.ctx.Err() != nil {
		sl.ctx, sl.cancelIt = context.WithCancel(s.hard)
	}
	ctx := sl.ctx
	sl.iterSeq++
	sl.iterating = true
	sl.mu.Unlock()

	if start.IsZero() {
		start = clock.Now()
	}
	sl.st.BeginIteration(due, start)
	err := sl.vu.RunIteration(ctx)
	end = clock.Now()
	sl.st.Iteration++

	sl.mu.Lock()
	sl.iterating = false
	sl.mu.Unlock()
	interrupted := ctx.Err() != nil

	if interrupted && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		s.r.interrupts.Add(1)
		return end
	}
	from := start
	if !due.IsZero() && due.Before(start) {
		from = due
	}
	sh := sl.st.Shard
	sh.Lock()
	sl.iters.Add(1)
	sl.iterDur.Add(float64(end.Sub(from)) / float64(time.Millisecond))
	sh.Unlock()
	s.r.iterations.Add(1)
	if err != nil {
		var ab *AbortError
		if errors.As(err, &ab) {
			s.r.abort(ab.Reason)
			return end
		}
		s.recordError(err)
	}
	return end
}

func (s *scenarioRun) recordError(err error) {
	s.r.exceptions.Add(1)
	where := ""
	var loc Locator
	if errors.As(err, &loc) {
		where = loc.Location()
	}
	s.r.reg.Errors.Add("exception", err.Error(), where)
}

// sleepUntil waits until t or the end of the run; false if the run ended.
func (s *scenarioRun) sleepUntil(sl *slot, t time.Time, ctx context.Context) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	if sl.timer == nil {
		sl.timer = time.NewTimer(d)
	} else {
		sl.timer.Reset(d)
	}
	select {
	case <-sl.timer.C:
		return true
	case <-ctx.Done():
		sl.timer.Stop()
		return false
	}
}
