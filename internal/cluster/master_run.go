package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// stopGrace is how long the master waits, after telling the workers to
// stop (Ctrl-C, abort), for their last deltas.
const stopGrace = 10 * time.Second

// run starts the ready workers and drives the run to its end.
func (m *Master) run(ctx context.Context) *Outcome {
	now := time.Now()
	m.start, m.started = now, true
	m.reg.Start(now, m.cfg.Warmup)
	ws := bySegment(m.alive())
	for i, w := range ws {
		m.assign(w, []Step{{Seg: Whole.Split(i, len(ws))}}, now)
	}
	m.logf("started %d workers", len(ws))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	check := time.NewTicker(Heartbeat / 2)
	defer check.Stop()
	var deadline <-chan time.Time
	lastPing := now
	for !m.finished() {
		select {
		case e := <-m.events:
			m.handle(e)
		case now := <-tick.C:
			m.tick(now)
		case now := <-check.C:
			m.checkHeartbeats(now)
			if now.Sub(lastPing) >= Heartbeat {
				lastPing = now
				m.ping()
			}
		case <-ctx.Done():
			if !m.stopping {
				m.interr = true
				m.stopAll("interrupted on the master")
			}
			ctx = context.Background()
		case <-deadline:
			m.logf("gave up waiting for the workers' last results")
			return m.finish(time.Now())
		}
		if m.stopping && deadline == nil {
			deadline = time.After(stopGrace)
		}
	}
	return m.finish(time.Now())
}

func (m *Master) ping() {
	for _, w := range m.workers {
		w.send(&ToWorker{})
	}
}

// finished reports whether every run ended (or was lost).
func (m *Master) finished() bool {
	if len(m.alive()) == 0 {
		return true
	}
	for _, a := range m.assigns {
		if !a.finished {
			return false
		}
	}
	return true
}

// stopAll tells every worker to stop its runs and send its last results.
func (m *Master) stopAll(reason string) {
	m.stopping = true
	m.logf("stopping the workers: %s", reason)
	for _, w := range m.workers {
		w.send(&ToWorker{Stop: &Stop{Reason: reason}})
	}
}

// tick merges what arrived, ticks the merged registry and checks the
// thresholds, as the engine does for a local run.
func (m *Master) tick(now time.Time) {
	t0 := time.Now()
	defer func() { m.mergeTime += time.Since(t0); m.ticks++ }()
	if err := m.merger.Flush(m.reg); err != nil {
		m.logf("merging deltas: %v", err)
	}
	var vus, vusMax float64
	for _, w := range m.workers {
		if w.closed {
			continue
		}
		for id, v := range w.vus {
			vus += v
			vusMax += w.vusMax[id]
		}
	}
	m.reg.Set(m.reg.Builtin.VUs, nil, vus)
	m.reg.Set(m.reg.Builtin.VUsMax, nil, vusMax)
	m.reg.Tick(now)
	for _, t := range m.evaluate(now) {
		if !t.Pass && t.Err == nil && t.AbortOnFail && m.elapsed(now) >= t.DelayAbortEval && !m.stopping {
			m.aborted = fmt.Sprintf("threshold %s: %s failed (observed %.4g) and has abortOnFail", t.MetricName(), t.Source, t.Observed)
			m.stopAll(m.aborted)
		}
	}
	m.showWorkers(now)
	if m.cfg.OnTick != nil {
		m.cfg.OnTick(m.reg, now)
	}
}

func (m *Master) evaluate(now time.Time) []engine.ThresholdResult {
	return engine.Evaluate(m.reg, m.ths, m.elapsed(now)-m.cfg.Warmup)
}

func (m *Master) checkHeartbeats(now time.Time) {
	for _, w := range m.workers {
		if !w.closed && now.Sub(w.lastSeen) > WorkerTimeout {
			m.lose(w, fmt.Sprintf("no heartbeat for %s", now.Sub(w.lastSeen).Truncate(100*time.Millisecond)))
		}
	}
}

// lose handles a worker that died or was cut off, by the loss policy.
func (m *Master) lose(w *wconn, why string) {
	now := time.Now()
	m.drop(w)
	if !m.started || !w.ready {
		w.gone = "left"
		m.logf("worker %s left before the start: %s", w.name, why)
		return
	}
	var open []*assignment
	var segs []string
	for _, a := range w.assigns {
		if !a.finished {
			open = append(open, a)
			segs = append(segs, a.segment())
		}
	}
	w.lost, w.lostAt = true, m.elapsed(now)
	loss := Loss{Worker: w.name, At: m.elapsed(now), Segments: segs}
	switch {
	case len(open) == 0:
		loss.Action = "it had finished its work; nothing to hand over"
	case m.stopping:
		loss.Action = "the run was stopping"
	case m.cfg.OnLoss == Abort:
		loss.Action = "the run was aborted (--on-worker-loss abort)"
		m.aborted = fmt.Sprintf("worker %s was lost at %s (%s)", w.name, loss.At.Truncate(time.Second), why)
		m.stopAll(m.aborted)
	case m.cfg.OnLoss == Continue:
		loss.Action = "its share was not run (--on-worker-loss continue)"
	default:
		loss.Action = m.redistribute(open, now)
	}
	for _, a := range open {
		a.finished = true
	}
	m.logf("worker %s lost at %s: %s; %s", w.name, loss.At.Truncate(100*time.Millisecond), why, loss.Action)
	m.losses = append(m.losses, loss)
}

// redistribute hands each open assignment, shifted to the time it has
// left, to the survivors: to the idle ones if there are any (spares that
// joined late or finished), else split among all of them.
func (m *Master) redistribute(open []*assignment, now time.Time) string {
	to := m.alive()
	var idle []*wconn
	for _, w := range to {
		if !w.busy() {
			idle = append(idle, w)
		}
	}
	if len(idle) > 0 {
		to = idle
	}
	if len(to) == 0 {
		return "no worker was left to take its share"
	}
	var names []string
	for _, w := range to {
		names = append(names, w.name)
	}
	for _, a := range open {
		after := m.elapsed(now) - a.startedAt
		for j, w := range to {
			steps := append(append([]Step(nil), a.steps...), Step{After: after, Done: copyDone(a.done), Seg: Whole.Split(j, len(to))})
			m.assign(w, steps, now)
		}
	}
	return "its share for the remaining time went to " + strings.Join(names, ", ")
}

func copyDone(d map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}

func (w *wconn) busy() bool {
	for _, a := range w.assigns {
		if !a.finished {
			return true
		}
	}
	return false
}

// finish does the last merge and tick, releases the workers and builds
// the outcome.
func (m *Master) finish(now time.Time) *Outcome {
	m.tick(now)
	m.closeAll("the run is over")
	res := &engine.Result{Start: m.start, End: now, Thresholds: m.evaluate(now), Aborted: m.aborted}
	res.Interrupted = m.interr && m.aborted == ""
	out := &Outcome{Result: res, Thresholds: m.ths, TrendStats: m.trend, Losses: m.losses, MergeTime: m.mergeTime + m.decodeTime, Ticks: m.ticks}
	errs := map[metrics.ErrorEntry]int64{}
	for _, a := range m.assigns {
		if d := a.result; d != nil {
			res.Iterations += d.Iterations
			res.Exceptions += d.Exceptions
			res.Interrupts += d.Interrupts
			res.Dropped += d.Dropped
			for _, e := range d.Errors {
				c := e.Count
				e.Count = 0
				errs[e] += c
			}
		}
	}
	for e, c := range errs {
		e.Count = c
		out.Errors = append(out.Errors, e)
	}
	for _, w := range m.workers {
		if w.ready {
			out.Workers = append(out.Workers, m.view(w, now))
		}
	}
	m.showWorkers(now)
	return out
}
