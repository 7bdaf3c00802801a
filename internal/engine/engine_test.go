package engine

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

// funcVU adapts a function to VU.
type funcVU struct {
	st *vu.State
	f  func(ctx context.Context, st *vu.State) error
}

func (v *funcVU) RunIteration(ctx context.Context) error { return v.f(ctx, v.st) }

func vus(f func(ctx context.Context, st *vu.State) error) NewVUFunc {
	return func(st *vu.State) (VU, error) { return &funcVU{st: st, f: f}, nil }
}

func sleeping(d time.Duration) NewVUFunc {
	return vus(func(ctx context.Context, _ *vu.State) error {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
}

func runOne(t *testing.T, sc *Scenario, th ...*metrics.Threshold) (*Result, *metrics.Registry) {
	t.Helper()
	reg := metrics.NewRegistry()
	res, err := Run(context.Background(), Options{Registry: reg, Scenarios: []*Scenario{sc}, Thresholds: th, TickInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return res, reg
}

func TestIterationCounts(t *testing.T) {
	tests := []struct {
		name string
		exec Executor
		want int64
	}{
		{"per-vu-iterations", PerVUIterations{VUs: 7, Iterations: 13}, 91},
		{"shared-iterations", SharedIterations{VUs: 7, Iterations: 100}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, reg := runOne(t, &Scenario{Name: tc.name, Executor: tc.exec, NewVU: sleeping(time.Millisecond)})
			if res.Iterations != tc.want {
				t.Errorf("iterations %d, want %d", res.Iterations, tc.want)
			}
			if got := reg.Total(reg.Builtin.Iterations).Sum; got != float64(tc.want) {
				t.Errorf("iterations metric %v, want %d", got, tc.want)
			}
		})
	}
}

func TestConstantVUs(t *testing.T) {
	var maxConc, conc atomic.Int64
	newVU := vus(func(ctx context.Context, _ *vu.State) error {
		c := conc.Add(1)
		for m := maxConc.Load(); c > m && !maxConc.CompareAndSwap(m, c); m = maxConc.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		conc.Add(-1)
		return nil
	})
	res, _ := runOne(t, &Scenario{Executor: ConstantVUs{VUs: 5, Duration: time.Second}, NewVU: newVU})
	// 5 VUs × 1 s / 20 ms = 250 iterations at most; allow slow machines
	if res.Iterations < 150 || res.Iterations > 255 {
		t.Errorf("iterations %d, want about 250", res.Iterations)
	}
	if maxConc.Load() != 5 {
		t.Errorf("max concurrency %d, want 5", maxConc.Load())
	}
}

func TestConstantArrivalRateAchievesRate(t *testing.T) {
	res, reg := runOne(t, &Scenario{
		Executor: ConstantArrivalRate{Rate: 500, TimeUnit: time.Second, Duration: 2 * time.Second, PreAllocatedVUs: 5, MaxVUs: 50},
		NewVU:    sleeping(5 * time.Millisecond),
	})
	if res.Iterations != 1000 || res.Dropped != 0 {
		t.Errorf("iterations %d dropped %d, want 1000 and 0", res.Iterations, res.Dropped)
	}
	if d := reg.Total(reg.Builtin.Dropped).Sum; d != 0 {
		t.Errorf("dropped_iterations %v", d)
	}
}

// TestOpenModelMeasuresFromDueTime stalls the "server" for the first 500 ms
// of a 1 s, 400/s run. Iterations due during the stall must report the time
// from their due time to the end of the stall: half of them wait uniformly
// 0–500 ms, so p75 ≈ 250 ms, p90 ≈ 400 ms and max ≈ 500 ms, not the few
// milliseconds a closed loop would see.
func TestOpenModelMeasuresFromDueTime(t *testing.T) {
	var stallEnd atomic.Int64
	newVU := func(st *vu.State) (VU, error) {
		return &funcVU{st: st, f: func(ctx context.Context, st *vu.State) error {
			if until := time.Unix(0, stallEnd.Load()); time.Now().Before(until) {
				time.Sleep(time.Until(until))
			}
			return nil
		}}, nil
	}
	stallEnd.Store(time.Now().Add(time.Hour).UnixNano()) // set properly once the run starts
	reg := metrics.NewRegistry()
	sc := &Scenario{Executor: ConstantArrivalRate{Rate: 400, TimeUnit: time.Second, Duration: time.Second, PreAllocatedVUs: 2, MaxVUs: 400}, NewVU: newVU}
	opts := Options{Registry: reg, Scenarios: []*Scenario{sc}, OnTick: nil}
	// the stall is anchored to the registry's start, which Run sets
	origNew := sc.NewVU
	var once atomic.Bool
	sc.NewVU = func(st *vu.State) (VU, error) {
		v, err := origNew(st)
		return &funcVU{st: st, f: func(ctx context.Context, st2 *vu.State) error {
			if once.CompareAndSwap(false, true) {
				stallEnd.Store(st.Registry.StartTime().Add(500 * time.Millisecond).UnixNano())
			}
			return v.RunIteration(ctx)
		}}, err
	}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 400 || res.Dropped != 0 {
		t.Fatalf("iterations %d dropped %d, want 400 and 0", res.Iterations, res.Dropped)
	}
	d := reg.Total(reg.Builtin.IterationDuration)
	p75, p90, max := d.Percentile(75), d.Percentile(90), d.Max
	if p75 < 200 || p75 > 300 || p90 < 350 || p90 > 450 {
		t.Errorf("p75 %.1f ms, p90 %.1f ms; want about 250 and 400 (from due time)", p75, p90)
	}
	if max < 450 || max > 600 {
		t.Errorf("max %.1f ms, want about 500 ms", max)
	}
}

func TestMaxVUsExhaustedCountsDropped(t *testing.T) {
	res, reg := runOne(t, &Scenario{
		Executor: ConstantArrivalRate{Rate: 100, TimeUnit: time.Second, Duration: time.Second, PreAllocatedVUs: 1, MaxVUs: 1},
		NewVU:    sleeping(100 * time.Millisecond),
	})
	if res.Iterations+res.Dropped != 100 {
		t.Errorf("iterations %d + dropped %d != 100 due", res.Iterations, res.Dropped)
	}
	if res.Iterations > 12 || res.Iterations < 5 {
		t.Errorf("iterations %d, want about 10", res.Iterations)
	}
	if got := reg.Total(reg.Builtin.Dropped).Sum; got != float64(res.Dropped) {
		t.Errorf("dropped_iterations metric %v, want %d", got, res.Dropped)
	}
}

func TestRampingVUsFollowsStages(t *testing.T) {
	res, reg := runOne(t, &Scenario{
		Executor: RampingVUs{StartVUs: 0, Stages: []Stage{{400 * time.Millisecond, 4}, {800 * time.Millisecond, 4}, {400 * time.Millisecond, 0}}, GracefulRampDown: 50 * time.Millisecond},
		NewVU:    sleeping(10 * time.Millisecond),
	})
	if res.Iterations == 0 {
		t.Fatal("no iterations")
	}
	var peak float64
	for _, s := range reg.Series() {
		if s.Metric == reg.Builtin.VUs {
			for _, p := range s.Points {
				peak = math.Max(peak, p.Max)
			}
		}
	}
	if peak != 4 {
		t.Errorf("peak vus %v, want 4", peak)
	}
}

type lifeVU struct {
	funcVU
	starts, stops *atomic.Int64
}

func (l *lifeVU) Start(context.Context) error { l.starts.Add(1); return nil }
func (l *lifeVU) Stop(context.Context) error  { l.stops.Add(1); return nil }

func TestLifecycleOncePerUser(t *testing.T) {
	var starts, stops atomic.Int64
	sc := &Scenario{Executor: ConstantVUs{VUs: 3, Duration: 300 * time.Millisecond}, NewVU: func(st *vu.State) (VU, error) {
		return &lifeVU{funcVU: funcVU{st: st, f: func(context.Context, *vu.State) error { time.Sleep(5 * time.Millisecond); return nil }}, starts: &starts, stops: &stops}, nil
	}}
	runOne(t, sc)
	if starts.Load() != 3 || stops.Load() != 3 {
		t.Errorf("starts %d stops %d, want 3 and 3", starts.Load(), stops.Load())
	}
}

type locErr struct{ msg, where string }

func (e locErr) Error() string    { return e.msg }
func (e locErr) Location() string { return e.where }

func TestExceptionsCountedOncePerMessage(t *testing.T) {
	res, reg := runOne(t, &Scenario{Executor: PerVUIterations{VUs: 2, Iterations: 50}, NewVU: vus(func(ctx context.Context, st *vu.State) error {
		if st.Iteration%2 == 0 {
			return locErr{"SyntaxError: Unexpected token", "script.js:12:5"}
		}
		return nil
	})})
	if res.Exceptions != 50 || res.Iterations != 100 {
		t.Errorf("exceptions %d iterations %d, want 50 and 100", res.Exceptions, res.Iterations)
	}
	es, _ := reg.Errors.Entries()
	if len(es) != 1 || es[0].Count != 50 || es[0].Where != "script.js:12:5" {
		t.Errorf("entries %+v", es)
	}
}

func TestAbortOnFailStopsEarly(t *testing.T) {
	th, _ := metrics.ParseThreshold("iterations", "count<10")
	th.AbortOnFail = true
	start := time.Now()
	res, _ := runOne(t, &Scenario{Executor: ConstantVUs{VUs: 2, Duration: 10 * time.Second}, NewVU: sleeping(time.Millisecond)}, th)
	if time.Since(start) > 5*time.Second {
		t.Errorf("run took %v; abortOnFail should stop it within a tick", time.Since(start))
	}
	if res.Aborted == "" || !res.Failed() {
		t.Errorf("aborted %q failed %v", res.Aborted, res.Failed())
	}
}

func TestAbortErrorFromIteration(t *testing.T) {
	res, _ := runOne(t, &Scenario{Executor: ConstantVUs{VUs: 1, Duration: 10 * time.Second}, NewVU: vus(func(context.Context, *vu.State) error {
		return &AbortError{Reason: "enough"}
	})})
	if res.Aborted != "enough" {
		t.Errorf("aborted %q", res.Aborted)
	}
}

func TestCancelIsGraceful(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	reg := metrics.NewRegistry()
	start := time.Now()
	res, err := Run(ctx, Options{Registry: reg, Scenarios: []*Scenario{{Executor: ConstantVUs{VUs: 2, Duration: time.Minute}, NewVU: sleeping(10 * time.Millisecond)}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || time.Since(start) > 3*time.Second {
		t.Errorf("interrupted %v after %v", res.Interrupted, time.Since(start))
	}
	if res.Iterations == 0 {
		t.Error("no iterations recorded before the interrupt")
	}
}

func TestInitErrorStopsRun(t *testing.T) {
	_, err := Run(context.Background(), Options{Scenarios: []*Scenario{{Executor: ConstantVUs{VUs: 1, Duration: time.Second}, NewVU: func(*vu.State) (VU, error) {
		return nil, errors.New("boom")
	}}}})
	if err == nil || err.Error() != `scenario "default": initializing VU 1: boom` {
		t.Errorf("err %v", err)
	}
}

func TestShapeTicks(t *testing.T) {
	var seen []int
	sc := &Scenario{Executor: Shape{MaxUsers: 10, Tick: func(el time.Duration) ShapeTick {
		switch {
		case el < time.Second:
			return ShapeTick{Users: 2}
		case el < 2*time.Second:
			return ShapeTick{Users: 5}
		}
		return ShapeTick{Stop: true}
	}}, NewVU: sleeping(10 * time.Millisecond)}
	reg := metrics.NewRegistry()
	_, err := Run(context.Background(), Options{Registry: reg, Scenarios: []*Scenario{sc}, TickInterval: 250 * time.Millisecond, OnTick: func(time.Time) {}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range reg.Series() {
		if s.Metric == reg.Builtin.VUs {
			for _, p := range s.Points {
				seen = append(seen, int(p.Max))
			}
		}
	}
	if len(seen) < 2 || seen[0] != 2 || seen[1] != 5 {
		t.Errorf("vus per second %v, want 2 then 5", seen)
	}
}
