package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/runner"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// WorkerConfig configures a load generator.
type WorkerConfig struct {
	Master string // host:port
	Token  string
	Name   string
	// Index, when set, asks the master for that segment of the expected
	// workers rather than one in the order of joining.
	Index   *int
	Version string
	TLS     *tls.Config // nil: plaintext
	// Load builds the test from the bundle, whose files are written under
	// dir. It is called once per engine run, so every run has its own
	// registry and VUs.
	Load func(ctx context.Context, b *Bundle, dir string) (runner.Config, error)
	// SetupData receives the master's setup() data (JSON) before each run
	// starts. Load must build tests that take their setup data from it
	// instead of running setup() and teardown() themselves (js.RemoteSetup):
	// the master runs those once for the whole cluster.
	SetupData func(data string)
	// ConnectTimeout bounds the retries while the master is not up yet.
	ConnectTimeout time.Duration
	Log            io.Writer
	// DeltaLog, when set, receives every delta sent, one JSON line each.
	DeltaLog io.Writer
	// MasterTimeout is how long the worker goes on without hearing from
	// its master (default MasterTimeout).
	MasterTimeout time.Duration
}

// DefaultConnectTimeout is how long a worker keeps trying to reach its
// master.
const DefaultConnectTimeout = time.Minute

// WorkerResult is what a worker did.
type WorkerResult struct {
	Name       string
	Runs       int
	Requests   int64
	Iterations int64
}

// RefusedError is a master that refused this worker (token, version).
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return "the master refused this worker: " + e.Msg }

// LostMasterError is a master that died or became unreachable mid-run.
type LostMasterError struct{ Why string }

func (e *LostMasterError) Error() string {
	return "lost the master (" + e.Why + "); stopped generating load"
}

// worker is one RunWorker call.
type worker struct {
	cfg    WorkerConfig
	st     grpc.ClientStream
	sendMu sync.Mutex
	dir    string
	bundle *Bundle
	name   string

	mu    sync.Mutex
	runs  []*wrun
	first *runner.Config // the config built for Ready, used by the first run
	res   WorkerResult
	wg    sync.WaitGroup
	cpu   cpuMeter
	// leaving is set when the worker itself is interrupted: its last
	// deltas go out, but its runs are not reported done, so the master
	// hands what is left of them to the others.
	leaving  bool
	kick     chan struct{} // an engine ticked: report now
	prepared chan error    // the bundle was built (or not)
}

// RunWorker connects to the master, runs what it assigns and returns when
// the master ends the run. It stops its load and returns a
// *LostMasterError if the master is silent for MasterTimeout.
func RunWorker(ctx context.Context, cfg WorkerConfig) (*WorkerResult, error) {
	if cfg.Token == "" {
		return nil, errors.New("a token is required: the master's --token")
	}
	if cfg.MasterTimeout <= 0 {
		cfg.MasterTimeout = MasterTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Name == "" {
		h, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	conn, err := grpc.NewClient(cfg.Master, clientCreds(cfg.TLS), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(128<<20)))
	if err != nil {
		return nil, fmt.Errorf("connecting to the master %s: %w", cfg.Master, err)
	}
	defer conn.Close()
	// the stream outlives ctx long enough to send the last deltas
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	w := &worker{cfg: cfg, kick: make(chan struct{}, 1), prepared: make(chan error, 1)}
	welcome, err := w.handshake(ctx, conn, sctx)
	if err != nil {
		return nil, err
	}
	w.name = welcome.Name
	w.res.Name = w.name
	w.logf("connected to the master %s as %s", cfg.Master, w.name)
	dir, err := os.MkdirTemp("", "surge-worker-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w.dir = dir
	err = w.serve(sctx, ctx)
	cancel() // a run still reporting to a lost master must not block
	w.wg.Wait()
	return &w.res, err
}

func (w *worker) logf(format string, args ...any) {
	fmt.Fprintf(w.cfg.Log, "worker: "+format+"\n", args...)
}

// handshake opens the stream, retrying while the master is unreachable.
func (w *worker) handshake(ctx context.Context, conn *grpc.ClientConn, sctx context.Context) (*Welcome, error) {
	deadline := time.Now().Add(w.cfg.ConnectTimeout)
	for {
		welcome, err := w.try(sctx, conn)
		if err == nil {
			return welcome, nil
		}
		var refused *RefusedError
		if errors.As(err, &refused) || ctx.Err() != nil || time.Now().After(deadline) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("interrupted while connecting to the master %s", w.cfg.Master)
			}
			if refused == nil {
				return nil, fmt.Errorf("%w (gave up after %s; see --connect-timeout)", err, w.cfg.ConnectTimeout)
			}
			return nil, err
		}
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

func (w *worker) try(ctx context.Context, conn *grpc.ClientConn) (*Welcome, error) {
	st, err := openStream(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("reaching the master %s: %s", w.cfg.Master, status.Convert(err).Message())
	}
	hello := &ToMaster{Hello: &Hello{Protocol: Protocol, Version: w.cfg.Version, Token: w.cfg.Token, Name: w.cfg.Name, CPUs: runtime.NumCPU(), Index: w.cfg.Index}}
	if err := st.SendMsg(hello); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reaching the master %s: %w", w.cfg.Master, err)
	}
	var m ToWorker
	if err := st.RecvMsg(&m); err != nil {
		switch status.Code(err) {
		case codes.Unauthenticated, codes.FailedPrecondition, codes.InvalidArgument:
			return nil, &RefusedError{Msg: status.Convert(err).Message()}
		}
		return nil, fmt.Errorf("reaching the master %s: %s", w.cfg.Master, status.Convert(err).Message())
	}
	if m.Welcome == nil {
		return nil, errors.New("the master did not welcome this worker")
	}
	w.st = st
	return m.Welcome, nil
}

func (w *worker) send(m *ToMaster) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	return w.st.SendMsg(m)
}

// serve handles the master's messages until it ends the run. runCtx is the
// caller's context: cancelling it (Ctrl-C on a worker) stops the runs.
func (w *worker) serve(ctx, parent context.Context) error {
	msgs := make(chan *ToWorker, 64)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m := new(ToWorker)
			if err := w.st.RecvMsg(m); err != nil {
				recvErr <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	runCtx, stopRuns := context.WithCancel(context.WithoutCancel(parent))
	defer stopRuns()
	heard := time.Now()
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	for {
		select {
		case m := <-msgs:
			heard = time.Now()
			done, err := w.apply(runCtx, m, stopRuns)
			if done || err != nil {
				return err
			}
		case err := <-w.prepared:
			if err != nil {
				return err
			}
		case err := <-recvErr:
			// the receiver queued every message before the error, and
			// select may pick the error first: a Stop (a refusal, the
			// end of the run) that came before the stream ended counts
			if done, err := w.applyQueued(runCtx, msgs, stopRuns); done || err != nil {
				return err
			}
			stopRuns()
			return &LostMasterError{Why: "its stream ended: " + status.Convert(err).Message()}
		case <-w.kick:
			if err := w.report(); err != nil {
				return w.sendFailed(runCtx, err, msgs, recvErr, stopRuns)
			}
		case now := <-beat.C:
			if silent := now.Sub(heard); silent > w.cfg.MasterTimeout {
				stopRuns()
				return &LostMasterError{Why: fmt.Sprintf("nothing heard for %s", silent.Truncate(100*time.Millisecond))}
			}
			if err := w.report(); err != nil {
				return w.sendFailed(runCtx, err, msgs, recvErr, stopRuns)
			}
		case <-parent.Done():
			w.mu.Lock()
			w.leaving = true
			w.mu.Unlock()
			stopRuns()
			w.waitRuns(stopGrace)
			w.report()
			return errors.New("interrupted")
		}
	}
}

// sendFailed decides what a failed send means. A master that ends the run
// sends Stop and closes its stream at once, so a report sent in between
// fails although nothing was lost: the messages received before the stream
// ended (or within a second, while the failure reaches the receiver) are
// applied first, and only a stream that ended without a Stop lost the
// master.
func (w *worker) sendFailed(ctx context.Context, serr error, msgs <-chan *ToWorker, recvErr <-chan error, stopRuns context.CancelFunc) error {
	lost := func() error {
		stopRuns()
		return &LostMasterError{Why: "sending to it failed: " + serr.Error()}
	}
	wait := time.NewTimer(time.Second)
	defer wait.Stop()
	for {
		select {
		case m := <-msgs:
			if done, err := w.apply(ctx, m, stopRuns); done || err != nil {
				return err
			}
		case <-recvErr: // the receiver queued every message before the error
			if done, err := w.applyQueued(ctx, msgs, stopRuns); done || err != nil {
				return err
			}
			return lost()
		case <-wait.C:
			return lost()
		}
	}
}

// applyQueued applies the messages already received, until one ends the
// run; done means one did.
func (w *worker) applyQueued(ctx context.Context, msgs <-chan *ToWorker, stopRuns context.CancelFunc) (bool, error) {
	for {
		select {
		case m := <-msgs:
			if done, err := w.apply(ctx, m, stopRuns); done || err != nil {
				return true, err
			}
		default:
			return false, nil
		}
	}
}

// apply handles one message from the master; done means the run is over.
func (w *worker) apply(ctx context.Context, m *ToWorker, stopRuns context.CancelFunc) (bool, error) {
	switch {
	case m.Bundle != nil:
		// built aside, so heartbeats go on during a long init or setup
		w.bundle = m.Bundle
		go func() { w.prepared <- w.prepare(ctx, m.Bundle) }()
	case m.Assign != nil:
		if w.cfg.SetupData != nil {
			w.cfg.SetupData(m.Assign.SetupData)
		}
		w.start(ctx, m.Assign)
	case m.Stop != nil:
		stopRuns()
		if m.Stop.Reason != "" {
			w.logf("the master says stop: %s", m.Stop.Reason)
		}
		if m.Stop.Refuse {
			return true, &RefusedError{Msg: m.Stop.Reason}
		}
		if m.Stop.Exit {
			w.waitRuns(stopGrace)
			w.report()
			w.sendMu.Lock()
			w.st.CloseSend()
			w.sendMu.Unlock()
			return true, nil
		}
	}
	return false, nil
}

// prepare writes the bundle, checks its digest and builds the test once.
func (w *worker) prepare(ctx context.Context, b *Bundle) error {
	ready := &Ready{Digest: b.Sum()}
	if ready.Digest != b.Digest {
		w.logf("bundle digest mismatch: got %.12s, the master says %.12s", ready.Digest, b.Digest)
	}
	err := b.Write(w.dir)
	var cfg runner.Config
	if err == nil {
		cfg, err = w.cfg.Load(ctx, b, w.dir)
	}
	if err != nil {
		ready.Err = err.Error()
	} else {
		ready.Thresholds, ready.TrendStats = cfg.Thresholds, cfg.TrendStats
		w.mu.Lock()
		w.first = &cfg
		w.mu.Unlock()
	}
	if serr := w.send(&ToMaster{Ready: ready}); serr != nil {
		return &LostMasterError{Why: "sending to it failed: " + serr.Error()}
	}
	if err != nil {
		return fmt.Errorf("building the test: %w", err)
	}
	w.logf("bundle %.12s ready (%d files)", ready.Digest, len(b.Files))
	return nil
}
