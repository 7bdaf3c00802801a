package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// growEvery is how often an arrival-rate scenario checks for a backlog and
// starts more VUs. An arrival is backlog only once it is lateTolerance late:
// at high rates a VU finishing its iteration claims the next arrival a few
// microseconds after it was due, and that is scheduling jitter, not a
// shortage of VUs.
//
// A VU started beyond the pre-allocated ones retires once it has waited
// longer than retireIdle for its next arrival: the backlog it was started
// for is gone, and keeping it would make memory grow with every stall.
const (
	growEvery     = 5 * time.Millisecond
	lateTolerance = 2 * time.Millisecond
	retireIdle    = time.Second
)

// arrivals runs an open-model scenario: VUs claim arrival numbers, wait for
// each one's due time and run it. A supervisor starts more VUs (up to
// maxVUs) whenever arrivals are due that no VU has claimed.
func (s *scenarioRun) arrivals(p Pacer, length time.Duration, maxVUs, preAllocated int) error {
	end := s.start.Add(length)
	var next, started atomic.Int64
	var wg sync.WaitGroup
	loop := func(sl *slot) {
		defer wg.Done()
		s.active.Add(1)
		defer s.active.Add(-1)
		if !s.startUser(sl) {
			return
		}
		defer s.stopUser(sl)
		for {
			i := next.Add(1) - 1
			d, ok := p.Due(i)
			if !ok || d >= length {
				return
			}
			due := s.start.Add(d)
			idle := time.Until(due)
			if !s.sleepUntil(sl, due, s.r.ctx) {
				return
			}
			now := time.Now()
			if !now.Before(end) && idle <= 0 {
				// due in time but no VU was free before the end: dropped. A VU
				// that was waiting for it runs it even if its timer woke
				// after the end (a loaded machine): that is lag, not a drop.
				return
			}
			started.Add(1)
			sh := sl.st.Shard
			sh.Lock()
			sl.lag.Add(float64(now.Sub(due)) / float64(time.Millisecond))
			sh.Unlock()
			s.iterate(sl, due, time.Time{})
			if sl.idx >= preAllocated && idle > retireIdle {
				s.retire(sl) // started for a backlog that is gone: give its memory back
				return
			}
		}
	}
	s.mu.Lock()
	initial := append([]*slot(nil), s.slots...)
	s.mu.Unlock()
	for _, sl := range initial {
		wg.Add(1)
		go loop(sl)
	}
	var initErr error
	tick := time.NewTicker(growEvery)
	for now := time.Now(); now.Before(end) && s.r.ctx.Err() == nil; now = time.Now() {
		backlog := p.Count(now.Sub(s.start)-lateTolerance) - next.Load()
		// grow by at most a quarter of the pool per check: fast enough to
		// follow a stall (the pool doubles in ~15 ms), slow enough not to
		// open thousands of connections on a transient hiccup
		backlog = min(backlog, s.created.Load()/4+1)
		for ; backlog > 0 && s.created.Load() < int64(maxVUs); backlog-- {
			sl, err := s.newSlot()
			if err != nil {
				initErr = err
				s.r.abort(err.Error())
				break
			}
			wg.Add(1)
			go loop(sl)
		}
		select {
		case <-tick.C:
		case <-s.r.ctx.Done():
		}
	}
	tick.Stop()
	wg.Wait()
	dropped := p.Count(min(time.Since(s.start), length)) - started.Load()
	if dropped > 0 {
		s.r.dropped.Add(dropped)
		s.r.reg.Set(s.r.reg.Builtin.Dropped, s.tags, float64(dropped))
	}
	return initErr
}
