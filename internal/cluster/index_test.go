package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// waitLog waits until the master's log says want.
func waitLog(t *testing.T, c *cluster, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(c.log.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("master log never said %q:\n%s", want, c.log)
		}
	}
}

// TestClusterWorkerIndexPicksSegment: a worker started with an index (a
// Kubernetes completion index) runs that segment whatever the order in
// which the workers joined. 10 iterations over 3 segments are 3, 3 and 4:
// the worker with index 2 joins first and must still run the 4.
func TestClusterWorkerIndexPicksSegment(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 3, nil)
	load := loader(tg.URL, engine.SharedIterations{VUs: 3, Iterations: 10, MaxDuration: 20 * time.Second})
	runs := map[int]chan workerRun{}
	for _, i := range []int{2, 0, 1} {
		idx := i
		runs[i] = startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, Name: fmt.Sprintf("w%d", i), Index: &idx})
		waitLog(t, c, fmt.Sprintf("worker w%d joined", i))
	}
	o := waitOutcome(t, c)
	want := map[int]int64{0: 3, 1: 3, 2: 4}
	for i, ch := range runs {
		wr := <-ch
		if wr.err != nil {
			t.Fatalf("worker %d: %v\n%s", i, wr.err, wr.log)
		}
		if wr.res.Requests != want[i] {
			t.Errorf("worker with index %d sent %d requests, want %d (its segment)", i, wr.res.Requests, want[i])
		}
	}
	for _, v := range o.Workers {
		var i int
		fmt.Sscanf(v.Name, "w%d", &i)
		if seg := Whole.Split(i, 3).String(); len(v.Segments) != 1 || v.Segments[0] != seg {
			t.Errorf("worker %s ran %v, want [%s]", v.Name, v.Segments, seg)
		}
	}
}

// TestClusterWorkerIndexRefused: an index out of range is refused at the
// handshake, one already taken when the worker joins; the run goes on with
// the right workers.
func TestClusterWorkerIndexRefused(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 2, nil)
	load := loader(tg.URL, engine.SharedIterations{VUs: 2, Iterations: 4, MaxDuration: 20 * time.Second})
	idx := func(i int) *int { return &i }
	var ref *RefusedError
	wr := <-startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, Index: idx(2)})
	if !errors.As(wr.err, &ref) || !strings.Contains(wr.err.Error(), "worker index 2 is out of range: the master expects 2 workers (indexes 0 to 1)") {
		t.Fatalf("index 2 of 2: err = %v", wr.err)
	}
	first := startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, Name: "a", Index: idx(0)})
	waitLog(t, c, "worker a joined")
	wr = <-startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, Name: "b", Index: idx(0)})
	if !errors.As(wr.err, &ref) || !strings.Contains(wr.err.Error(), "worker index 0 is taken by a") {
		t.Fatalf("a second index 0: err = %v\n%s", wr.err, wr.log)
	}
	second := startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, Name: "c", Index: idx(1)})
	waitOutcome(t, c)
	for _, ch := range []chan workerRun{first, second} {
		if wr := <-ch; wr.err != nil || wr.res.Requests != 2 {
			t.Errorf("worker: %d requests, err %v", wr.res.Requests, wr.err)
		}
	}
}
