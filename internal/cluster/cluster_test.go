package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/protocol/httpvu"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/vu"
)

// target is the system under test: it counts the requests it served.
type target struct {
	*httptest.Server
	hits atomic.Int64
}

func newTarget(t testing.TB) *target {
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(tg.Close)
	return tg
}

// loader builds a quick HTTP test with executor e, as the CLI would from
// the bundle's flags.
func loader(url string, e engine.Executor) func(context.Context, *Bundle, string) (runner.Config, error) {
	return func(context.Context, *Bundle, string) (runner.Config, error) {
		req := &httpc.Request{Method: "GET", URL: url}
		hc := httpc.DefaultConfig()
		hc.DiscardBody = true
		sc := &engine.Scenario{Name: "default", Executor: e, GracefulStop: time.Second,
			NewVU: func(st *vu.State) (engine.VU, error) { return httpvu.NewFixedVU(st, hc, req, "t"), nil }}
		return runner.Config{Scenarios: []*engine.Scenario{sc}, Thresholds: []*metrics.Threshold{mustThreshold("http_req_failed: rate<0.5")}}, nil
	}
}

func mustThreshold(s string) *metrics.Threshold {
	t, err := metrics.ParseThresholdFlag(s)
	if err != nil {
		panic(err)
	}
	return t
}

// syncBuffer is a log buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type cluster struct {
	addr    string
	log     *syncBuffer
	reg     *metrics.Registry
	outcome chan *Outcome
	errc    chan error
}

func startMaster(t testing.TB, ctx context.Context, n int, mod func(*MasterConfig)) *cluster {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{addr: lis.Addr().String(), log: &syncBuffer{}, reg: metrics.NewRegistry(), outcome: make(chan *Outcome, 1), errc: make(chan error, 1)}
	b := &Bundle{Args: []string{"--url", "x"}}
	b.Seal()
	cfg := MasterConfig{Listener: lis, Token: "s3cret", Version: "test", ExpectWorkers: n, WaitTimeout: 20 * time.Second,
		Bundle: b, Registry: c.reg, Log: c.log}
	if mod != nil {
		mod(&cfg)
	}
	go func() {
		o, err := RunMaster(ctx, cfg)
		c.outcome <- o
		c.errc <- err
	}()
	return c
}

type workerRun struct {
	res    *WorkerResult
	err    error
	deltas *syncBuffer
	log    *syncBuffer
}

func startWorker(ctx context.Context, addr, token string, load func(context.Context, *Bundle, string) (runner.Config, error)) chan workerRun {
	return startWorkerCfg(ctx, WorkerConfig{Master: addr, Token: token, Load: load})
}

func startWorkerCfg(ctx context.Context, cfg WorkerConfig) chan workerRun {
	out := make(chan workerRun, 1)
	go func() {
		wr := workerRun{deltas: &syncBuffer{}, log: &syncBuffer{}}
		cfg.Version, cfg.ConnectTimeout, cfg.Log, cfg.DeltaLog = "test", 10*time.Second, wr.log, wr.deltas
		wr.res, wr.err = RunWorker(ctx, cfg)
		out <- wr
	}()
	return out
}

func waitOutcome(t *testing.T, c *cluster) *Outcome {
	t.Helper()
	select {
	case o := <-c.outcome:
		if err := <-c.errc; err != nil {
			t.Fatalf("master: %v\n%s", err, c.log)
		}
		return o
	case <-time.After(60 * time.Second):
		t.Fatalf("the master did not finish\n%s", c.log)
	}
	return nil
}

func TestClusterSharedIterationsExact(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 3, nil)
	load := loader(tg.URL, engine.SharedIterations{VUs: 5, Iterations: 601, MaxDuration: 30 * time.Second})
	var ws []chan workerRun
	for range 3 {
		ws = append(ws, startWorker(ctx, c.addr, "s3cret", load))
	}
	o := waitOutcome(t, c)
	var sum, fromWorkers int64
	union := metrics.NewRegistry()
	for _, ch := range ws {
		wr := <-ch
		if wr.err != nil {
			t.Fatalf("worker: %v\n%s", wr.err, wr.log)
		}
		sum += wr.res.Requests
		mergeLog(t, union, wr.deltas.String())
	}
	for _, v := range o.Workers {
		fromWorkers += v.Requests
	}
	total := int64(c.reg.Total(c.reg.Builtin.HTTPReqs).Sum)
	if total != 601 || sum != 601 || fromWorkers != 601 || tg.hits.Load() != 601 {
		t.Fatalf("requests: merged %d, workers' own counts %d, per-worker view %d, served %d; want 601 each", total, sum, fromWorkers, tg.hits.Load())
	}
	if o.Result.Iterations != 601 {
		t.Errorf("iterations %d, want 601", o.Result.Iterations)
	}
	union.Tick(time.Now())
	got, want := c.reg.Total(c.reg.Builtin.HTTPReqDuration), union.Total(union.Builtin.HTTPReqDuration)
	for _, p := range []float64{50, 95, 99} {
		if got.Percentile(p) != want.Percentile(p) {
			t.Errorf("merged p(%v) = %v, the union of the workers' histograms says %v", p, got.Percentile(p), want.Percentile(p))
		}
	}
	if len(o.Thresholds) != 1 || len(o.Result.Thresholds) != 1 || !o.Result.Thresholds[0].Pass {
		t.Errorf("the script's threshold was not evaluated on the master: %+v", o.Result.Thresholds)
	}
	if len(o.Workers) != 3 || o.Workers[0].State != "done" {
		t.Errorf("worker view: %+v", o.Workers)
	}
}

// mergeLog merges a worker's delta log (JSON lines) into reg.
func mergeLog(t *testing.T, reg *metrics.Registry, log string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var d metrics.Delta
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if err := reg.MergeDelta(d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClusterRefusesWrongTokenAndVersion(t *testing.T) {
	tg := newTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startMaster(t, ctx, 1, nil)
	load := loader(tg.URL, engine.SharedIterations{VUs: 1, Iterations: 1})
	wr := <-startWorker(ctx, c.addr, "wrong", load)
	var ref *RefusedError
	if !errors.As(wr.err, &ref) || !strings.Contains(wr.err.Error(), "wrong token") {
		t.Fatalf("worker with a wrong token: err = %v, want a refusal for the token", wr.err)
	}
	res, err := RunWorker(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Version: "other", Load: load, ConnectTimeout: 5 * time.Second})
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "version mismatch") || res != nil {
		t.Fatalf("worker of another version: err = %v", err)
	}
	for _, want := range []string{"refused a worker from 127.0.0.1", "wrong token", "version mismatch"} {
		if !strings.Contains(c.log.String(), want) {
			t.Errorf("master log lacks %q:\n%s", want, c.log)
		}
	}
}

func TestClusterWorkerLossRedistributes(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 3, nil)
	load := loader(tg.URL, engine.ConstantArrivalRate{Rate: 90, Duration: 4 * time.Second, PreAllocatedVUs: 6, MaxVUs: 30})
	victimCtx, kill := context.WithCancel(ctx)
	var ws []chan workerRun
	for i := range 3 {
		wctx := ctx
		if i == 0 {
			wctx = victimCtx
		}
		ws = append(ws, startWorker(wctx, c.addr, "s3cret", load))
	}
	time.Sleep(1500 * time.Millisecond)
	kill()
	o := waitOutcome(t, c)
	<-ws[0]
	if len(o.Losses) != 1 || !strings.Contains(o.Losses[0].Action, "went to") {
		t.Fatalf("losses: %+v\n%s", o.Losses, c.log)
	}
	total := c.reg.Total(c.reg.Builtin.HTTPReqs).Sum
	// 360 arrivals in all; the victim's share after ~1.5 s is run by the others
	if total < 350 || total > 362 {
		t.Errorf("%v requests in total, want about 360 (the lost share redistributed)\n%s", total, c.log)
	}
	var lost, others int
	for _, v := range o.Workers {
		if v.State == "lost" {
			lost++
		} else if v.Requests > 140 { // its own 120 and part of the lost share
			others++
		}
	}
	if lost != 1 || others != 2 {
		t.Errorf("worker view: %+v", o.Workers)
	}
}

func TestClusterWaitTimeout(t *testing.T) {
	c := startMaster(t, context.Background(), 2, func(m *MasterConfig) { m.WaitTimeout = 300 * time.Millisecond })
	<-c.outcome
	if err := <-c.errc; err == nil || !strings.Contains(err.Error(), "only 0 of 2 workers were ready") {
		t.Fatalf("err = %v", err)
	}
}

// TestClusterRefusesDigestMismatch: a worker whose bundle does not hash
// to the master's digest is refused.
func TestClusterRefusesDigestMismatch(t *testing.T) {
	tg := newTarget(t)
	c := startMaster(t, context.Background(), 1, func(m *MasterConfig) {
		m.Bundle = &Bundle{Args: []string{"--url", "x"}, Digest: "0123456789abcdef"}
		m.WaitTimeout = 2 * time.Second
	})
	wr := <-startWorker(context.Background(), c.addr, "s3cret", loader(tg.URL, engine.SharedIterations{VUs: 1, Iterations: 1}))
	var ref *RefusedError
	if !errors.As(wr.err, &ref) || !strings.Contains(wr.err.Error(), "the master's is 0123456789ab") {
		t.Errorf("worker: err = %v, want a refusal for the digest", wr.err)
	}
	<-c.outcome
	if err := <-c.errc; err == nil || !strings.Contains(c.log.String(), "does not match") {
		t.Errorf("master: err = %v, log:\n%s", err, c.log)
	}
}

// TestClusterSpareTakesLostShare: a worker that joins after the start
// stands by, and takes the whole share of a lost worker.
func TestClusterSpareTakesLostShare(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 2, nil)
	load := loader(tg.URL, engine.ConstantArrivalRate{Rate: 60, Duration: 4 * time.Second, PreAllocatedVUs: 4, MaxVUs: 20})
	victimCtx, kill := context.WithCancel(ctx)
	victim := startWorker(victimCtx, c.addr, "s3cret", load)
	other := startWorker(ctx, c.addr, "s3cret", load)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.log.String(), "started 2 workers") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	spare := startWorker(ctx, c.addr, "s3cret", load)
	for !strings.Contains(c.log.String(), "stands by") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	kill()
	o := waitOutcome(t, c)
	<-victim
	<-other
	sp := <-spare
	if sp.err != nil || sp.res.Runs != 1 || sp.res.Requests < 50 {
		t.Fatalf("spare: %+v, %v; want one run with the lost share (~80 requests)\n%s", sp.res, sp.err, c.log)
	}
	if len(o.Losses) != 1 || !strings.HasSuffix(o.Losses[0].Action, "went to "+o.Workers[2].Name) {
		t.Errorf("losses: %+v, workers %+v", o.Losses, o.Workers)
	}
}

func TestClusterAbortOnLoss(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 2, func(m *MasterConfig) { m.OnLoss = Abort })
	load := loader(tg.URL, engine.ConstantVUs{VUs: 2, Duration: 20 * time.Second}) // one each: with one, the victim might have had nothing to lose
	victimCtx, kill := context.WithCancel(ctx)
	victim := startWorker(victimCtx, c.addr, "s3cret", load)
	other := startWorker(ctx, c.addr, "s3cret", load)
	time.Sleep(1500 * time.Millisecond)
	kill()
	start := time.Now()
	o := waitOutcome(t, c)
	<-victim
	if wr := <-other; wr.err != nil {
		t.Errorf("the surviving worker: %v", wr.err)
	}
	if !strings.Contains(o.Result.Aborted, "was lost at") || time.Since(start) > 10*time.Second {
		t.Errorf("aborted = %q after %s; want the loss, promptly", o.Result.Aborted, time.Since(start))
	}
}

// TestClusterEarlyWorkersWait: workers that are ready early keep hearing
// from the master while it waits for the last one, and do not give up.
func TestClusterEarlyWorkersWait(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 2, nil)
	load := loader(tg.URL, engine.SharedIterations{VUs: 1, Iterations: 10})
	early := startWorkerCfg(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Load: load, MasterTimeout: time.Second})
	time.Sleep(2500 * time.Millisecond)
	late := startWorker(ctx, c.addr, "s3cret", load)
	waitOutcome(t, c)
	for _, ch := range []chan workerRun{early, late} {
		if wr := <-ch; wr.err != nil {
			t.Errorf("worker: %v\n%s", wr.err, wr.log)
		}
	}
	if n := c.reg.Total(c.reg.Builtin.HTTPReqs).Sum; n != 10 {
		t.Errorf("%v requests, want 10", n)
	}
}

// TestClusterAbortOnFailThreshold: thresholds are judged on the merged
// data every second, and one with abortOnFail stops every worker.
func TestClusterAbortOnFailThreshold(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	th := mustThreshold("http_reqs: count<5")
	th.AbortOnFail = true
	c := startMaster(t, ctx, 2, func(m *MasterConfig) { m.Thresholds = []*metrics.Threshold{th} })
	load := loader(tg.URL, engine.ConstantVUs{VUs: 2, Duration: 30 * time.Second})
	ws := []chan workerRun{startWorker(ctx, c.addr, "s3cret", load), startWorker(ctx, c.addr, "s3cret", load)}
	start := time.Now()
	o := waitOutcome(t, c)
	for _, ch := range ws {
		if wr := <-ch; wr.err != nil {
			t.Errorf("worker: %v", wr.err)
		}
	}
	if !strings.Contains(o.Result.Aborted, "abortOnFail") || !o.Result.Failed() || time.Since(start) > 10*time.Second {
		t.Errorf("aborted %q, failed %v, after %s; want an abort by the threshold within seconds", o.Result.Aborted, o.Result.Failed(), time.Since(start))
	}
}
