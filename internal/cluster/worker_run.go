package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/runner"
)

// wrun is one engine run on a worker. Its registry has deltas enabled;
// the reporter takes them every heartbeat.
type wrun struct {
	id       int
	reg      *metrics.Registry
	vus      float64
	vusMax   float64
	done     *RunDone // set when engine.Run returned
	reported bool     // done was sent
	finished chan struct{}
}

// start builds the test for an assignment and runs it in the background.
func (w *worker) start(ctx context.Context, a *Assign) {
	r := &wrun{id: a.ID, finished: make(chan struct{})}
	w.mu.Lock()
	w.runs = append(w.runs, r)
	cfg := w.first
	w.first = nil
	w.res.Runs++
	w.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(r.finished)
		d := w.execute(ctx, r, cfg, a)
		w.mu.Lock()
		r.done = d
		w.res.Iterations += d.Iterations
		w.res.Requests += d.Requests
		w.mu.Unlock()
		w.report() // the last deltas and the end, at once
	}()
}

// execute runs one assignment to its end.
func (w *worker) execute(ctx context.Context, r *wrun, cfg *runner.Config, a *Assign) *RunDone {
	if cfg == nil {
		c, err := w.cfg.Load(ctx, w.bundle, w.dir)
		if err != nil {
			return &RunDone{Err: "building the test: " + err.Error()}
		}
		cfg = &c
	}
	reg := cfg.Registry
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	reg.EnableDeltas()
	w.mu.Lock()
	r.reg = reg
	w.mu.Unlock()
	scens := Plan(cfg.Scenarios, a.Steps)
	if len(scens) == 0 {
		w.logf("run %d: nothing to do in this segment", a.ID)
		d := &RunDone{}
		if cfg.AfterLoad != nil {
			if err := cfg.AfterLoad(context.WithoutCancel(ctx)); err != nil {
				d.Err = err.Error()
			}
		}
		return d
	}
	w.logf("run %d: %d scenarios, segment %s", a.ID, len(scens), describeSteps(a.Steps))
	kick := func(time.Time) {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	res, err := engine.Run(ctx, engine.Options{Registry: reg, Scenarios: scens, Tags: cfg.Tags, OnTick: kick})
	d := &RunDone{Requests: int64(reg.Total(reg.Builtin.HTTPReqs).Sum)}
	d.Errors, _ = reg.Errors.Entries()
	if res != nil {
		d.Iterations, d.Exceptions, d.Interrupts, d.Dropped, d.Aborted = res.Iterations, res.Exceptions, res.Interrupts, res.Dropped, res.Aborted
	}
	if cfg.AfterLoad != nil { // the script's teardown(), and closing what it opened
		err = errors.Join(err, cfg.AfterLoad(context.WithoutCancel(ctx)))
	}
	if err != nil {
		d.Err = err.Error()
	}
	return d
}

func describeSteps(steps []Step) string {
	a := assignment{steps: steps}
	return a.segment()
}

// report sends the deltas every run gathered since the last report, and
// the end of the runs that finished. It is also the worker's heartbeat.
func (w *worker) report() error {
	w.sendMu.Lock() // held from taking the deltas to sending them, so reports stay in order
	defer w.sendMu.Unlock()
	w.mu.Lock()
	rep := &Report{CPU: w.cpu.share()}
	var logged []metrics.Delta
	for _, r := range w.runs {
		if r.reported || r.reg == nil && r.done == nil {
			continue
		}
		rr := RunReport{ID: r.id}
		if r.reg != nil {
			ds := r.reg.TakeDeltas()
			for _, d := range ds {
				switch d.Metric {
				case "vus":
					r.vus = d.Last
				case "vus_max":
					r.vusMax = d.Last
				}
			}
			rr.Deltas = EncodeDeltas(ds)
			logged = append(logged, ds...)
		}
		rr.VUs, rr.VUsMax = r.vus, r.vusMax
		if r.done != nil && !w.leaving {
			rr.Done, r.reported = r.done, true
		}
		rep.Runs = append(rep.Runs, rr)
	}
	w.mu.Unlock()
	if w.cfg.DeltaLog != nil {
		w.logDeltas(logged)
	}
	return w.st.SendMsg(&ToMaster{Report: rep})
}

func (w *worker) logDeltas(ds []metrics.Delta) {
	for _, d := range ds {
		if b, err := json.Marshal(d); err == nil {
			w.cfg.DeltaLog.Write(append(b, '\n'))
		}
	}
}

// waitRuns waits for the runs to end, at most d.
func (w *worker) waitRuns(d time.Duration) {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		w.logf("runs did not stop within %s", d)
	}
}
