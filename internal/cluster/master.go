package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"google.golang.org/grpc"
)

// MasterConfig configures a distributed run's coordinator.
type MasterConfig struct {
	Listen        string       // host:port
	Listener      net.Listener // used instead of Listen when set
	Token         string
	Version       string
	TLS           *tls.Config // nil: plaintext
	ExpectWorkers int
	WaitTimeout   time.Duration // for the expected workers to be ready (default 2m)
	Bundle        *Bundle
	OnLoss        string // Redistribute (default), Continue, Abort
	Thresholds    []*metrics.Threshold
	Warmup        time.Duration
	Registry      *metrics.Registry
	// OnTick is called after each tick of the merged registry.
	OnTick func(reg *metrics.Registry, now time.Time)
	// Setup, when set, runs once when the workers are ready, before any
	// starts (a script's setup()); it returns the data every worker's VUs
	// get, as JSON. Its error ends the run before the start: the workers
	// are told to exit.
	Setup func(ctx context.Context) (data string, err error)
	// Teardown, when set, runs once after the workers finished or were
	// stopped (a script's teardown(data)), never when Setup failed. What
	// it records into Registry counts in the results and the thresholds;
	// its error is the Outcome's TeardownErr.
	Teardown func(ctx context.Context) error
	// OnWorkers, when set, is called from the master's loop with a fresh
	// view of every worker that connected (joining ones included): every
	// second while the run goes, every heartbeat while the master waits
	// for its workers, and once more at the end. It must not block: the
	// merge waits for it.
	OnWorkers func(now time.Time, ws []WorkerView)
	// OnListen is called with the address the master listens on.
	OnListen func(addr string)
	Log      io.Writer // one line per cluster event
}

// DefaultWaitTimeout is how long the master waits for its workers.
const DefaultWaitTimeout = 2 * time.Minute

// Outcome is a finished distributed run.
type Outcome struct {
	Result     *engine.Result
	Thresholds []*metrics.Threshold // the script's and the flags'
	TrendStats []string
	Workers    []WorkerView
	Losses     []Loss
	Errors     []metrics.ErrorEntry
	// MergeTime is the master's time spent decoding and merging deltas and
	// ticking the merged registry, over Ticks ticks.
	MergeTime time.Duration
	Ticks     int
	// TeardownErr is MasterConfig.Teardown's error.
	TeardownErr error
}

// WorkerView is one worker as the summary and the live dashboard show it.
type WorkerView struct {
	Name, Addr string
	// State is joining (connected, building the test), ready (waiting
	// for the start), running, idle (a spare standing by), done, lost
	// (died or cut off during the run), left (before the start) or
	// refused (its bundle digest differed).
	State         string
	Segments      []string
	VUs           float64       // the most it ran at once
	Users         float64       // the VUs it runs now
	RPS           float64       // requests per second over the run
	LastRPS       float64       // requests per second over its last second
	CPU           float64       // share of one CPU
	Requests      int64         // merged from its deltas
	Iterations    int64         // from its finished runs
	LastHeartbeat time.Time     // its last message
	LostAt        time.Duration // since the start, when lost
}

// Loss is a worker that was lost during the run.
type Loss struct {
	Worker   string
	At       time.Duration // since the start
	Segments []string      // what it was running
	Action   string        // what was done about it
}

// assignment is one engine run on one worker.
type assignment struct {
	id        int
	w         *wconn
	steps     []Step
	startedAt time.Duration
	done      map[string]int64 // iterations completed, per scenario
	finished  bool
	result    *RunDone
}

func (a *assignment) segment() string {
	s := a.steps[0].Seg.String()
	for _, st := range a.steps[1:] {
		s += fmt.Sprintf(" +%s:%s", st.After.Truncate(time.Second), st.Seg)
	}
	return s
}

// Master coordinates one distributed run.
type Master struct {
	cfg    MasterConfig
	reg    *metrics.Registry
	events chan event
	quit   chan struct{}

	workers  []*wconn
	assigns  []*assignment
	joined   int
	start    time.Time
	started  bool
	stopping bool
	ths      []*metrics.Threshold
	haveThs  bool
	trend    []string
	merger   *Merger
	losses   []Loss
	aborted  string
	interr   bool
	data     string // Setup's result, sent with every assignment

	mergeTime, decodeTime time.Duration
	ticks                 int
}

// RunMaster listens for workers, runs the test on them and returns the
// merged outcome. The registry in cfg holds the merged metrics.
func RunMaster(ctx context.Context, cfg MasterConfig) (*Outcome, error) {
	if cfg.ExpectWorkers < 1 {
		return nil, errors.New("expect at least one worker")
	}
	if cfg.Token == "" {
		return nil, errors.New("a token is required: workers must present the same one")
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	if cfg.OnLoss == "" {
		cfg.OnLoss = Redistribute
	}
	if cfg.Registry == nil {
		cfg.Registry = metrics.NewRegistry()
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	lis := cfg.Listener
	if lis == nil {
		l, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("listening for workers: %w", err)
		}
		lis = l
	}
	m := &Master{cfg: cfg, reg: cfg.Registry, events: make(chan event, 1024), quit: make(chan struct{}), merger: NewMerger()}
	m.ths = append(m.ths, cfg.Thresholds...)
	srv := grpc.NewServer(serverCreds(cfg.TLS), grpc.MaxRecvMsgSize(64<<20))
	srv.RegisterService(&serviceDesc, m)
	go srv.Serve(lis)
	if cfg.OnListen != nil {
		cfg.OnListen(lis.Addr().String())
	}
	m.logf("listening on %s for %d workers", lis.Addr(), cfg.ExpectWorkers)
	defer func() {
		close(m.quit)
		stopped := make(chan struct{})
		go func() { srv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(2 * time.Second):
			srv.Stop()
		}
	}()
	if err := m.wait(ctx); err != nil {
		m.closeAll("the master gave up: " + err.Error())
		return nil, err
	}
	if err := m.setup(ctx); err != nil {
		m.closeAll(err.Error())
		return nil, err
	}
	o := m.run(ctx)
	if m.cfg.Teardown != nil {
		o.TeardownErr = m.teardown(ctx, o.Result)
	}
	return o, nil
}

// teardown runs cfg.Teardown after the last merge and counts what it
// recorded, as setup's samples are counted and as in a local run: one
// more tick of the registry, handed to OnTick, and the thresholds judged
// again.
func (m *Master) teardown(ctx context.Context, res *engine.Result) error {
	err := m.cfg.Teardown(context.WithoutCancel(ctx))
	now := time.Now()
	m.reg.TickAfterLoad(now)
	res.Thresholds = m.evaluate(res.End)
	if m.cfg.OnTick != nil {
		m.cfg.OnTick(m.reg, now)
	}
	return err
}

// setup runs cfg.Setup while the loop goes on, so that the ready workers
// keep hearing from their master however long setup takes.
func (m *Master) setup(ctx context.Context) error {
	if m.cfg.Setup == nil {
		return nil
	}
	type result struct {
		data string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		d, err := m.cfg.Setup(ctx)
		done <- result{d, err}
	}()
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	for {
		select {
		case r := <-done:
			switch {
			case ctx.Err() != nil:
				return errors.New("interrupted while setup() ran on the master")
			case r.err != nil:
				return fmt.Errorf("setup() failed on the master, the workers were told to stop: %w", r.err)
			}
			m.data = r.data
			m.logf("setup() ran on the master (%d bytes of data for the workers)", len(r.data))
			return nil
		case e := <-m.events:
			m.handle(e) // a late worker that cannot build the test is only not used
		case now := <-beat.C:
			m.ping()
			m.checkHeartbeats(now)
			m.showWorkers(now)
		}
	}
}

func (m *Master) logf(format string, args ...any) {
	fmt.Fprintf(m.cfg.Log, "master: "+format+"\n", args...)
}

// wait accepts workers until the expected number are ready.
func (m *Master) wait(ctx context.Context) error {
	timeout := time.NewTimer(m.cfg.WaitTimeout)
	defer timeout.Stop()
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	for m.readyCount() < m.cfg.ExpectWorkers {
		select {
		case e := <-m.events:
			if err := m.handle(e); err != nil {
				return err
			}
		case now := <-beat.C: // the first workers wait for the last ones
			m.ping()
			m.checkHeartbeats(now)
			m.showWorkers(now)
		case <-timeout.C:
			return fmt.Errorf("only %d of %d workers were ready within %s; start more with: surge worker --master ADDR --token T", m.readyCount(), m.cfg.ExpectWorkers, m.cfg.WaitTimeout)
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for workers (%d of %d ready)", m.readyCount(), m.cfg.ExpectWorkers)
		}
	}
	return nil
}

func (m *Master) readyCount() int {
	n := 0
	for _, w := range m.workers {
		if w.ready && !w.closed {
			n++
		}
	}
	return n
}

func (m *Master) elapsed(now time.Time) time.Duration { return now.Sub(m.start) }

// handle applies one event. It returns an error that ends the run before
// it started (a worker that cannot build the test).
func (m *Master) handle(e event) error {
	w := e.w
	switch {
	case e.joined:
		m.joined++
		w.joinOrder = m.joined
		if w.name == "" {
			w.name = fmt.Sprintf("worker-%d", w.joinOrder)
		}
		w.name = m.uniqueName(w.name)
		w.lastSeen = time.Now()
		m.workers = append(m.workers, w)
		w.send(&ToWorker{Welcome: &Welcome{Name: w.name}})
		if o := m.indexTaken(w); o != nil {
			w.gone = "refused"
			m.logf("refused worker %s from %s: worker index %d is taken by %s", w.name, w.addr, w.index, o.name)
			w.send(&ToWorker{Stop: &Stop{Exit: true, Refuse: true, Reason: fmt.Sprintf("worker index %d is taken by %s; give each worker its own --worker-index", w.index, o.name)}})
			m.drop(w)
			return nil
		}
		m.logf("worker %s joined from %s", w.name, w.addr)
		w.send(&ToWorker{Bundle: m.cfg.Bundle})
		return nil
	case e.err != nil:
		if !w.closed {
			m.lose(w, fmt.Sprintf("its connection broke (%v)", oneLine(e.err)))
		}
		return nil
	}
	w.lastSeen = time.Now()
	switch msg := e.msg; {
	case msg.Ready != nil:
		return m.ready(w, msg.Ready)
	case msg.Report != nil:
		m.report(w, msg.Report, w.lastSeen)
	}
	return nil
}

// indexTaken returns the connected worker that already has w's index.
func (m *Master) indexTaken(w *wconn) *wconn {
	if w.index < 0 {
		return nil
	}
	for _, o := range m.workers {
		if o != w && o.index == w.index && !o.closed {
			return o
		}
	}
	return nil
}

// bySegment orders the workers of a start: each worker that asked for an
// index (surge worker --worker-index, a Kubernetes completion index) at
// that position, the others in the free positions in the order they
// joined.
func bySegment(ws []*wconn) []*wconn {
	out := make([]*wconn, len(ws))
	var rest []*wconn
	for _, w := range ws {
		if w.index >= 0 && w.index < len(ws) && out[w.index] == nil {
			out[w.index] = w
		} else {
			rest = append(rest, w)
		}
	}
	for i := range out {
		if out[i] == nil {
			out[i], rest = rest[0], rest[1:]
		}
	}
	return out
}

func (m *Master) uniqueName(n string) string {
	name := n
	for i := 2; ; i++ {
		taken := false
		for _, w := range m.workers {
			taken = taken || w.name == name
		}
		if !taken {
			return name
		}
		name = fmt.Sprintf("%s-%d", n, i)
	}
}

func (m *Master) ready(w *wconn, r *Ready) error {
	if r.Err != "" {
		return fmt.Errorf("worker %s could not build the test: %s", w.name, r.Err)
	}
	if r.Digest != m.cfg.Bundle.Digest {
		w.gone = "refused"
		m.logf("refused worker %s: its bundle digest %.12s does not match %.12s", w.name, r.Digest, m.cfg.Bundle.Digest)
		w.send(&ToWorker{Stop: &Stop{Exit: true, Refuse: true, Reason: fmt.Sprintf("the bundle it received has digest %.12s, the master's is %.12s", r.Digest, m.cfg.Bundle.Digest)}})
		m.drop(w)
		return nil
	}
	w.ready = true
	if !m.haveThs {
		m.haveThs = true
		m.ths = append(r.Thresholds, m.ths...)
		m.trend = r.TrendStats
	}
	m.logf("worker %s is ready (bundle %.12s)", w.name, r.Digest)
	if m.started && !m.stopping {
		m.logf("worker %s stands by: it gets a share when a worker is lost", w.name)
	}
	return nil
}

// drop ends a worker's stream without counting it as lost.
func (m *Master) drop(w *wconn) {
	if !w.closed {
		w.closed = true
		close(w.done)
	}
}

func (m *Master) report(w *wconn, r *Report, now time.Time) {
	w.cpu = r.CPU
	var reqs int64
	for _, rr := range r.Runs {
		a := m.assignment(rr.ID)
		t0 := time.Now()
		ws, err := m.merger.decodeAdd(rr.Deltas, func(n string) bool { return n == "vus" || n == "vus_max" })
		m.decodeTime += time.Since(t0)
		if err != nil {
			m.logf("worker %s sent bad deltas: %v", w.name, err)
		}
		var runReqs int64
		for i := range ws {
			d := &ws[i].Delta
			switch d.Metric {
			case "http_reqs":
				runReqs += int64(d.Sum)
			case "iterations":
				if a != nil {
					a.done[tagValue(d.Tags, "scenario")] += int64(d.Sum)
				}
			}
		}
		reqs += runReqs
		if len(ws) > 0 { // the run's engine ticked
			w.rates.add(rr.ID, runReqs, now)
		}
		w.vus[rr.ID], w.vusMax[rr.ID] = rr.VUs, rr.VUsMax
		if rr.Done != nil && a != nil && !a.finished {
			a.finished, a.result = true, rr.Done
			delete(w.vus, rr.ID)
			delete(w.vusMax, rr.ID)
			delete(w.rates, rr.ID)
			if rr.Done.Err != "" {
				m.logf("worker %s: run %d failed: %s", w.name, rr.ID, rr.Done.Err)
			}
		}
	}
	var vus float64
	for _, v := range w.vus {
		vus += v
	}
	w.peakVUs = max(w.peakVUs, vus)
	w.requests += reqs
}

func tagValue(tags []metrics.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

func (m *Master) assignment(id int) *assignment {
	if id >= 0 && id < len(m.assigns) {
		return m.assigns[id]
	}
	return nil
}

// assign starts a run of steps on w.
func (m *Master) assign(w *wconn, steps []Step, now time.Time) *assignment {
	a := &assignment{id: len(m.assigns), w: w, steps: steps, startedAt: m.elapsed(now), done: map[string]int64{}}
	m.assigns = append(m.assigns, a)
	w.assigns = append(w.assigns, a)
	w.send(&ToWorker{Assign: &Assign{ID: a.id, Steps: steps, SetupData: m.data}})
	return a
}

func (m *Master) closeAll(reason string) {
	for _, w := range m.workers {
		w.send(&ToWorker{Stop: &Stop{Exit: true, Reason: reason}})
		m.drop(w)
	}
}

func (m *Master) alive() []*wconn {
	var out []*wconn
	for _, w := range m.workers {
		if w.ready && !w.closed {
			out = append(out, w)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].joinOrder < out[j].joinOrder })
	return out
}

func oneLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
