package cluster

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

func TestRunRates(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type tick struct {
		run, ms int
		n       int64
	}
	for _, tc := range []struct {
		name  string
		ticks []tick
		at    int
		want  float64
	}{
		{"first tick counts a second", []tick{{0, 1000, 30}}, 1000, 30},
		{"over the time since the previous tick", []tick{{0, 1000, 30}, {0, 2000, 40}}, 2100, 40},
		{"a short last tick", []tick{{0, 1000, 30}, {0, 1500, 10}}, 1500, 20},
		// two runs ticking half a second apart: a window over the
		// worker's reports would count one or two ticks by chance
		{"two runs out of phase", []tick{{0, 1000, 30}, {1, 1500, 10}, {0, 2000, 30}, {1, 2500, 10}}, 2600, 40},
		{"a run that stopped ticking", []tick{{0, 1000, 30}, {1, 1000, 10}, {1, 4000, 10}}, 4000, 10 / 3.0},
		{"nothing", nil, 1000, 0},
	} {
		r := runRates{}
		for _, tk := range tc.ticks {
			r.add(tk.run, tk.n, at(tk.ms))
		}
		if got := r.sum(at(tc.at)); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %v req/s, want %v", tc.name, got, tc.want)
		}
	}
}

// viewLog records what MasterConfig.OnWorkers was given.
type viewLog struct {
	mu    sync.Mutex
	calls [][]WorkerView
}

func (l *viewLog) add(_ time.Time, ws []WorkerView) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, ws)
}

func (l *viewLog) all() [][]WorkerView {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]WorkerView(nil), l.calls...)
}

// find returns the first call for which ok holds.
func (l *viewLog) find(ok func([]WorkerView) bool) []WorkerView {
	for _, c := range l.all() {
		if ok(c) {
			return c
		}
	}
	return nil
}

func byName(ws []WorkerView, name string) *WorkerView {
	for i := range ws {
		if ws[i].Name == name {
			return &ws[i]
		}
	}
	return nil
}

// TestClusterOnWorkersLiveView: the master hands out the per-worker view
// while it waits (the first worker ready), every second of the run (both
// running, with their current users and last-second rate), and after a
// worker is killed (lost, with when, while the survivor took its share).
func TestClusterOnWorkersLiveView(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	views := &viewLog{}
	c := startMaster(t, ctx, 2, func(m *MasterConfig) { m.OnWorkers = views.add })
	load := loader(tg.URL, engine.ConstantArrivalRate{Rate: 40, Duration: 4 * time.Second, PreAllocatedVUs: 4, MaxVUs: 20})
	victimCtx, kill := context.WithCancel(ctx)
	victim := startWorkerCfg(victimCtx, WorkerConfig{Master: c.addr, Token: "s3cret", Name: "victim", Load: load})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.log.String(), "worker victim is ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // a heartbeat of waiting for the second
	other := startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Name: "other", Load: load})
	time.Sleep(2 * time.Second)
	kill()
	o := waitOutcome(t, c)
	<-victim
	<-other

	if v := views.find(func(ws []WorkerView) bool { return len(ws) == 1 && ws[0].State == "ready" }); v == nil {
		t.Errorf("no view of the first worker ready while the master waited for the second: %v", views.all())
	}
	both := views.find(func(ws []WorkerView) bool {
		return len(ws) == 2 && ws[0].State == "running" && ws[1].State == "running" && ws[0].LastRPS > 0 && ws[1].LastRPS > 0
	})
	if both == nil {
		t.Fatalf("no view with both workers running and sending requests: %v", views.all())
	}
	for _, w := range both {
		if w.LastRPS < 10 || w.LastRPS > 30 || w.Users < 1 || len(w.Segments) != 1 || time.Since(w.LastHeartbeat) > time.Minute {
			t.Errorf("running worker %+v: want about 20 req/s (half of 40/s), users, one segment, a heartbeat", w)
		}
	}
	lost := views.find(func(ws []WorkerView) bool {
		v := byName(ws, "victim")
		return len(ws) == 2 && v != nil && v.State == "lost"
	})
	if lost == nil {
		t.Fatalf("the killed worker was never shown lost: %v", views.all())
	}
	v := byName(lost, "victim")
	if v.LostAt < time.Second || v.LostAt > 6*time.Second || v.Users != 0 || v.LastRPS != 0 {
		t.Errorf("lost worker %+v: want lost 1-6 s into the run, no users, no rate", v)
	}
	if s := byName(lost, "other"); s == nil || s.State != "running" {
		t.Errorf("the survivor when the victim was lost: %+v", s)
	}
	calls := views.all()
	last := calls[len(calls)-1]
	if len(last) != 2 || byName(last, "victim").State != "lost" || byName(last, "other").State != "done" || len(byName(last, "other").Segments) != 2 {
		t.Errorf("last view %+v: want the victim lost and the other done with its own and the lost share", last)
	}
	if len(o.Workers) != 2 {
		t.Errorf("outcome workers %+v", o.Workers)
	}
}
