package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// setupLog records what the workers' SetupData hooks received.
type setupLog struct {
	mu   sync.Mutex
	got  []string
	hits func() int64 // requests served when a hook ran
	at   []int64
}

func (s *setupLog) hook(data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, data)
	s.at = append(s.at, s.hits())
}

// TestClusterSetupOnceTeardownOnce: the master's Setup runs once, after
// the workers are ready and before any load; its data reaches every
// worker with its assignment; Teardown runs once, after all the load.
// Setup takes longer than the workers' master timeout: the master keeps
// its heartbeats going meanwhile.
func TestClusterSetupOnceTeardownOnce(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	var setups, teardowns atomic.Int64
	var hitsAtTeardown int64
	c := startMaster(t, ctx, 2, func(m *MasterConfig) {
		m.Setup = func(ctx context.Context) (string, error) {
			setups.Add(1)
			time.Sleep(1500 * time.Millisecond)
			return `{"token":"abc","n":42}`, nil
		}
		m.Teardown = func(ctx context.Context) error {
			teardowns.Add(1)
			hitsAtTeardown = tg.hits.Load()
			return errors.New("teardown said no")
		}
	})
	log := &setupLog{hits: tg.hits.Load}
	load := loader(tg.URL, engine.SharedIterations{VUs: 2, Iterations: 40, MaxDuration: 10 * time.Second})
	var ws []chan workerRun
	for range 2 {
		ws = append(ws, startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, SetupData: log.hook, MasterTimeout: time.Second}))
	}
	o := waitOutcome(t, c)
	for _, ch := range ws {
		if wr := <-ch; wr.err != nil {
			t.Fatalf("worker: %v\n%s", wr.err, wr.log)
		}
	}
	if setups.Load() != 1 || teardowns.Load() != 1 {
		t.Errorf("setup ran %d times, teardown %d; want once each", setups.Load(), teardowns.Load())
	}
	if hitsAtTeardown != 40 {
		t.Errorf("teardown ran when %d of 40 requests were served; want after all of them", hitsAtTeardown)
	}
	if o.TeardownErr == nil || o.TeardownErr.Error() != "teardown said no" {
		t.Errorf("TeardownErr = %v", o.TeardownErr)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.got) != 2 || log.got[0] != `{"token":"abc","n":42}` || log.got[1] != log.got[0] {
		t.Errorf("the workers received setup data %q; want the master's, once per run", log.got)
	}
	for _, n := range log.at {
		if n != 0 {
			t.Errorf("a worker got the setup data after %d requests; want before any load", n)
		}
	}
	if !strings.Contains(c.log.String(), "setup() ran on the master (22 bytes") {
		t.Errorf("master log:\n%s", c.log)
	}
}

// TestClusterSetupFails: a failing Setup ends the run before the start.
// The workers are told to exit without running anything, and Teardown
// does not run.
func TestClusterSetupFails(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	var teardowns atomic.Int64
	boom := errors.New("setup: boom")
	c := startMaster(t, ctx, 2, func(m *MasterConfig) {
		m.Setup = func(context.Context) (string, error) { return "", boom }
		m.Teardown = func(context.Context) error { teardowns.Add(1); return nil }
	})
	load := loader(tg.URL, engine.SharedIterations{VUs: 1, Iterations: 10})
	var ws []chan workerRun
	for range 2 {
		ws = append(ws, startWorker(ctx, c.addr, "s3cret", load))
	}
	<-c.outcome
	err := <-c.errc
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "setup() failed on the master, the workers were told to stop") {
		t.Errorf("master: err = %v", err)
	}
	for _, ch := range ws {
		wr := <-ch
		if wr.err != nil || wr.res.Runs != 0 || !strings.Contains(wr.log.String(), "the master says stop: setup() failed on the master") {
			t.Errorf("worker: err %v, result %+v, log:\n%s", wr.err, wr.res, wr.log)
		}
	}
	if tg.hits.Load() != 0 || teardowns.Load() != 0 {
		t.Errorf("%d requests and %d teardowns after a failed setup; want none", tg.hits.Load(), teardowns.Load())
	}
}
