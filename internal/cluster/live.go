package cluster

import "time"

// rateWindow is how long a run's last measured rate stands without a
// newer tick; past it the run counts as sending nothing.
const rateWindow = 2 * time.Second

// runRate is the request rate of one run over its last engine tick.
type runRate struct {
	at  time.Time // when the tick's deltas arrived
	rps float64
}

// runRates holds, per run of a worker, the rate of its last tick. A rate
// is taken per run because two runs on one worker (its own share and a
// lost worker's) tick at different moments: a window over the worker's
// reports would see one, two or three ticks by chance.
type runRates map[int]runRate

// add records a tick of run id that carried n requests and arrived at
// now; its length is the time since the run's previous tick (a second
// for the first one, as the engine ticks every second).
func (r runRates) add(id int, n int64, now time.Time) {
	dt := time.Second
	if prev, ok := r[id]; ok {
		dt = max(now.Sub(prev.at), 100*time.Millisecond)
	}
	r[id] = runRate{at: now, rps: float64(n) / dt.Seconds()}
}

// sum is the worker's request rate at now: the runs that ticked lately.
func (r runRates) sum(now time.Time) float64 {
	var rps float64
	for _, rr := range r {
		if now.Sub(rr.at) <= rateWindow {
			rps += rr.rps
		}
	}
	return rps
}

// showWorkers hands the current per-worker views to MasterConfig.OnWorkers.
func (m *Master) showWorkers(now time.Time) {
	if m.cfg.OnWorkers == nil {
		return
	}
	vs := make([]WorkerView, 0, len(m.workers))
	for _, w := range m.workers {
		vs = append(vs, m.view(w, now))
	}
	m.cfg.OnWorkers(now, vs)
}

// view is one worker as the summary and the dashboard show it.
func (m *Master) view(w *wconn, now time.Time) WorkerView {
	v := WorkerView{Name: w.name, Addr: w.addr, State: m.state(w), VUs: w.peakVUs, CPU: w.cpu, Requests: w.requests, LastHeartbeat: w.lastSeen, LostAt: w.lostAt}
	if el := m.elapsed(now).Seconds(); m.started && el > 0 {
		v.RPS = float64(w.requests) / el
	}
	if !w.closed {
		for _, u := range w.vus {
			v.Users += u
		}
		v.LastRPS = w.rates.sum(now)
	}
	for _, a := range w.assigns {
		v.Segments = append(v.Segments, a.segment())
		if a.result != nil {
			v.Iterations += a.result.Iterations
		}
	}
	return v
}

func (m *Master) state(w *wconn) string {
	switch {
	case w.lost:
		return "lost"
	case w.gone != "":
		return w.gone
	case w.busy():
		return "running"
	case !w.ready && w.closed:
		return "left"
	case !w.ready:
		return "joining"
	case len(w.assigns) > 0:
		return "done"
	case m.started:
		return "idle"
	}
	return "ready"
}
