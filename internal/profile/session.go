package profile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// DefaultRate is the default sampling frequency in Hz: 99, not 100, so that
// sampling does not run in lockstep with timers firing at round rates.
const DefaultRate = 99

// MaxRate bounds --rate; the kernel's perf_event_max_sample_rate is usually
// far higher, but beyond a few kHz the profiler perturbs what it measures.
const MaxRate = 10000

// Target names what to profile: a Linux process (and optionally its
// descendants) sampled with perf_event_open, or a Go service's
// net/http/pprof endpoint (URL is the base, e.g. http://host:6060/debug/pprof).
type Target struct {
	PID          int
	URL          string
	Subprocesses bool
}

// Options tune a profiling session.
type Options struct {
	// Rate is the sampling frequency in Hz for PID targets (default 99).
	Rate int
	// KernelStacks adds the kernel's call chain (named from /proc/kallsyms)
	// above the user stack, for PID targets; it needs root or
	// perf_event_paranoid <= 1. Without it, time in the kernel is one
	// "[kernel]" frame.
	KernelStacks bool
	// Chunk is how long each CPU profile fetched from a URL target lasts
	// (default 1s); Stop and Cut wait for the chunk in flight.
	Chunk time.Duration
}

func (o Options) withDefaults() Options {
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Chunk <= 0 {
		o.Chunk = time.Second
	}
	return o
}

// Session is a CPU profile being recorded. Cut returns what was recorded
// since the previous Cut (one profile per load stage, without reopening
// events); Stop ends the session and returns the rest.
type Session struct {
	target Target
	opts   Options
	start  time.Time

	s   *sampler
	sym *symbolizer

	url *urlSession

	mu      sync.Mutex
	stopped bool
}

// Start begins recording target's CPU. For a PID it opens a perf event on
// every thread at once (errors such as missing permissions come back here);
// for a URL it checks the endpoint answers and starts fetching.
func Start(ctx context.Context, t Target, o Options) (*Session, error) {
	o = o.withDefaults()
	if o.Rate > MaxRate {
		return nil, fmt.Errorf("rate %d Hz is above the maximum of %d Hz", o.Rate, MaxRate)
	}
	ss := &Session{target: t, opts: o, start: time.Now()}
	switch {
	case t.URL != "" && t.PID != 0:
		return nil, errors.New("profile target has both a pid and a URL; give one")
	case t.URL != "":
		u, err := startURL(ctx, t.URL, o.Chunk)
		if err != nil {
			return nil, err
		}
		ss.url = u
	case t.PID > 0:
		s, err := newSampler(t.PID, o.Rate, t.Subprocesses, o.KernelStacks)
		if err != nil {
			return nil, err
		}
		ss.s, ss.sym = s, newSymbolizer()
	default:
		return nil, errors.New("profile target needs a pid or a URL")
	}
	return ss, nil
}

// Exited is closed when a PID target's process has gone; it is nil (never
// ready) for URL targets.
func (ss *Session) Exited() <-chan struct{} {
	if ss.s == nil {
		return nil
	}
	return ss.s.exit
}

// Lost reports samples the kernel dropped because a ring buffer was full.
func (ss *Session) Lost() uint64 {
	if ss.s == nil {
		return 0
	}
	return ss.s.lostSamples()
}

// Cut returns the profile recorded since Start or the previous Cut and
// keeps recording.
func (ss *Session) Cut() (*profile.Profile, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.stopped {
		return nil, errors.New("profile session already stopped")
	}
	return ss.cut()
}

func (ss *Session) cut() (*profile.Profile, error) {
	if ss.url != nil {
		return ss.url.cut()
	}
	start := time.Now()
	stacks, snaps, comms, d := ss.s.take()
	return buildProfile(ss.sym, stacks, snaps, comms, ss.opts.Rate, start.Add(-d), d), nil
}

// Stop ends the session and returns the profile recorded since Start or
// the last Cut. A process that exited meanwhile still yields what was
// collected before it did.
func (ss *Session) Stop() (*profile.Profile, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.stopped {
		return nil, errors.New("profile session already stopped")
	}
	ss.stopped = true
	if ss.url != nil {
		ss.url.stop()
		return ss.url.cut()
	}
	ss.s.close() // drains the rings one last time
	return ss.cut()
}

// Record profiles t for d (or until ctx ends, or the process exits) and
// returns the profile.
func Record(ctx context.Context, t Target, o Options, d time.Duration) (*profile.Profile, error) {
	if t.URL != "" {
		return FetchCPU(ctx, t.URL, d)
	}
	ss, err := Start(ctx, t, o)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-ss.Exited():
	}
	return ss.Stop()
}
