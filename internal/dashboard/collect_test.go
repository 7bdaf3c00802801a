package dashboard

import (
	"math"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// fixture is a registry whose clock the test drives.
type fixture struct {
	reg *metrics.Registry
	t0  time.Time
}

func newFixture(warmup time.Duration) *fixture {
	reg := metrics.NewRegistry()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reg.Start(t0, warmup)
	return &fixture{reg: reg, t0: t0}
}

// request records one HTTP request as the HTTP client does.
func (f *fixture) request(scenario, name string, ms float64, failed bool) {
	b := f.reg.Builtin
	tags := f.reg.Intern(metrics.Tag{Key: "scenario", Value: scenario}, metrics.Tag{Key: "name", Value: name}, metrics.Tag{Key: "method", Value: "GET"})
	sh := f.reg.Shard(0)
	sh.Add(b.HTTPReqs, tags, 1)
	sh.Add(b.HTTPReqDuration, tags, ms)
	fail := 0.0
	if failed {
		fail = 1
	}
	sh.Add(b.HTTPReqFailed, tags, fail)
}

// tick ticks the registry at t0+sec, as the engine does.
func (f *fixture) tick(sec float64, users float64) time.Time {
	now := f.t0.Add(time.Duration(sec * float64(time.Second)))
	f.reg.Set(f.reg.Builtin.VUs, nil, users)
	f.reg.Tick(now)
	return now
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.01*math.Abs(want)+1e-9 }

func TestPointRatesAndPercentilesPerTick(t *testing.T) {
	f := newFixture(0)
	c := newCollector(f.reg)
	// First second: 100 requests of 1..100 ms over two names and scenarios
	// (the fast half and the slow half), 10 of them failed.
	for i := 1; i <= 100; i++ {
		sc, name := "browse", "home"
		if i > 50 {
			sc, name = "buy", "cart"
		}
		f.request(sc, name, float64(i), i%10 == 0)
	}
	p := c.point(f.tick(1, 4))
	if p.T != 1 || p.RPS != 100 || p.FPS != 10 || p.Users != 4 {
		t.Fatalf("first point = %+v, want t=1 rps=100 fps=10 users=4", p)
	}
	if p.Scenario["browse"] != 50 || p.Scenario["buy"] != 50 {
		t.Errorf("per-scenario rates = %v, want 50 each", p.Scenario)
	}
	// Percentiles of the union of both tag sets, not an average (72.5) or
	// the worst (97.5) of their p95s.
	if p.Lat == nil || !near(p.Lat.P50, 50) || !near(p.Lat.P95, 95) || !near(p.Lat.P99, 99) || p.Lat.Max != 100 {
		t.Fatalf("first latency = %+v, want p50 50, p95 95, p99 99, max 100 (±1%%)", p.Lat)
	}
	// A half-second tick with 20 slow requests: rates divide by the tick's
	// length, and percentiles cover only this tick.
	for range 20 {
		f.request("browse", "home", 1000, false)
	}
	p = c.point(f.tick(1.5, 6))
	if p.RPS != 40 || p.FPS != 0 || p.Scenario["browse"] != 40 || p.Scenario["buy"] != 0 {
		t.Fatalf("second point = %+v, want rps=40 fps=0 browse=40 buy=0", p)
	}
	if p.Lat == nil || !near(p.Lat.P50, 1000) || p.Lat.Max != 1000 {
		t.Fatalf("second latency = %+v, want 1000 ms for every percentile", p.Lat)
	}
	// An idle tick has rates of zero and no latency.
	p = c.point(f.tick(2.5, 6))
	if p.RPS != 0 || p.Lat != nil {
		t.Fatalf("idle point = %+v, want rps 0 and no latency", p)
	}
}

func TestPointWarmupCountsAndIsMarked(t *testing.T) {
	f := newFixture(2 * time.Second)
	c := newCollector(f.reg)
	for range 30 {
		f.request("default", "a", 5, false)
	}
	p := c.point(f.tick(1, 1))
	if !p.Warmup || p.RPS != 30 || p.Lat == nil {
		t.Fatalf("warm-up point = %+v, want marked, rps 30, with latency", p)
	}
	for range 10 {
		f.request("default", "a", 7, false)
	}
	p = c.point(f.tick(3, 1))
	// Samples move from the warm-up aggregate to the totals: neither lost
	// nor counted twice.
	if p.Warmup || p.RPS != 5 || !near(p.Lat.P50, 7) {
		t.Fatalf("point after warm-up = %+v, want unmarked, rps 10/2s = 5, p50 7", p)
	}
}

func TestPointWithoutHTTPChartsIterations(t *testing.T) {
	f := newFixture(0)
	c := newCollector(f.reg)
	b := f.reg.Builtin
	tags := f.reg.Intern(metrics.Tag{Key: "scenario", Value: "s"})
	for i := range 8 {
		f.reg.Shard(i).Add(b.Iterations, tags, 1)
		f.reg.Shard(i).Add(b.IterationDuration, tags, 20)
	}
	p := c.point(f.tick(2, 2))
	if p.RPS != 4 || p.Lat == nil || !near(p.Lat.P95, 20) || p.Scenario["s"] != 4 {
		t.Fatalf("point = %+v, want 8 iterations over 2 s and 20 ms latency", p)
	}
}
