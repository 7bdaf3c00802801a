package engine

import (
	"math"
	"sync"
	"time"
)

// targetFunc returns the users wanted at scenario time t, the spawn rate
// (users per second; 0 for immediate) and whether to stop.
type targetFunc func(t time.Duration) (users int, spawnRate float64, stop bool)

// gate tells each VU slot whether it should be running.
type gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	target int
	done   bool
}

func newGate() *gate {
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) set(target int, done bool) {
	g.mu.Lock()
	g.target, g.done = target, done
	g.mu.Unlock()
	g.cond.Broadcast()
}

// wait blocks until slot i may run (true) or the scenario is over (false).
func (g *gate) wait(i int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.done && i >= g.target {
		g.cond.Wait()
	}
	return !g.done
}

func (g *gate) allows(i int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.done && i < g.target
}

// ramping runs VUs whose number follows target, checked every 50 ms. A VU
// above the target finishes its iteration; after gracefulRampDown it is cut
// off.
func (s *scenarioRun) ramping(end time.Time, gracefulRampDown time.Duration, target targetFunc) error {
	if gracefulRampDown <= 0 {
		gracefulRampDown = DefaultGracefulStop
	}
	g := newGate()
	var wg sync.WaitGroup
	started := 0
	startSlot := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.userLoop(g, i)
		}()
	}
	current := 0.0
	last := time.Now()
	step := time.NewTicker(50 * time.Millisecond)
	defer step.Stop()
	for {
		now := time.Now()
		want, rate, stop := target(now.Sub(s.start))
		if stop || !now.Before(end) || s.r.ctx.Err() != nil {
			break
		}
		current = approach(current, float64(want), rate, now.Sub(last))
		last = now
		n := int(current + 1e-9)
		for started < n { // create VUs on first need (shape) or use pre-initialized ones
			if int64(started) >= s.created.Load() {
				if _, err := s.newSlot(); err != nil {
					g.set(0, true)
					wg.Wait()
					return err
				}
			}
			startSlot(started)
			started++
		}
		prev := g.targetNow()
		g.set(n, false)
		for i := n; i < prev; i++ {
			s.cutOffLater(g, i, gracefulRampDown)
		}
		select {
		case <-step.C:
		case <-s.r.ctx.Done():
		}
	}
	g.set(0, true)
	wg.Wait()
	return nil
}

func (g *gate) targetNow() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.target
}

// approach moves cur towards want by at most rate*dt (rate 0: at once).
func approach(cur, want, rate float64, dt time.Duration) float64 {
	if rate <= 0 {
		return want
	}
	step := rate * dt.Seconds()
	if math.Abs(want-cur) <= step {
		return want
	}
	if want > cur {
		return cur + step
	}
	return cur - step
}

// userLoop is one VU of a ramping or shape scenario.
func (s *scenarioRun) userLoop(g *gate, i int) {
	sl := s.slot(i)
	for g.wait(i) {
		s.active.Add(1)
		if s.startUser(sl) {
			for g.allows(i) {
				s.iterate(sl, time.Time{}, time.Time{})
			}
			s.stopUser(sl)
		}
		s.active.Add(-1)
	}
}

// cutOffLater cancels slot i's running iteration if it is still above the
// target after grace.
func (s *scenarioRun) cutOffLater(g *gate, i int, grace time.Duration) {
	sl := s.slot(i)
	sl.mu.Lock()
	seq, running := sl.iterSeq, sl.iterating
	sl.mu.Unlock()
	if !running {
		return
	}
	time.AfterFunc(grace, func() {
		if g.allows(i) {
			return
		}
		sl.mu.Lock()
		if sl.iterating && sl.iterSeq == seq && sl.cancelIt != nil {
			sl.cancelIt()
		}
		sl.mu.Unlock()
	})
}

// shape runs Locust's load shape: Tick once a second.
func (s *scenarioRun) shape(e Shape, end time.Time) error {
	var last ShapeTick
	var lastAt time.Duration = -time.Second
	return s.ramping(end, DefaultGracefulStop, s.r.opts.Control.steered(func(t time.Duration) (int, float64, bool) {
		if t-lastAt >= time.Second {
			last, lastAt = e.Tick(t), t
		}
		return min(last.Users, e.MaxUsers), last.SpawnRate, last.Stop
	}, func() int { return e.MaxUsers }))
}
