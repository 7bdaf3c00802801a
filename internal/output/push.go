package output

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pushTimeout bounds one push, so a black-holed endpoint delays Close by
// seconds, not minutes.
const pushTimeout = 5 * time.Second

// pusher sends snapshots of the run's totals from its own goroutine, so a
// slow or unreachable endpoint never holds up the engine's tick. It keeps
// at most one snapshot waiting: snapshots are cumulative, so when the
// endpoint is slower than one a second, replacing the waiting one with a
// newer one loses resolution, never counts.
//
// A failed push does not stop the run: failures are counted, and Close
// reports them in one line.
type pusher[T any] struct {
	name string // "otlp output", for errors
	send func(ctx context.Context, payload T) error

	mu      sync.Mutex
	pending *T
	wake    chan struct{}
	done    chan struct{}
	closed  bool
	sent    sendLog
}

// sendLog counts an exporter's sends and keeps the first failure, for
// the one line its Close reports; it is safe for concurrent use.
type sendLog struct {
	mu               sync.Mutex
	attempts, failed int
	first            error
}

func (l *sendLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	if err != nil {
		l.failed++
		if l.first == nil {
			l.first = err
		}
	}
}

// err is nil when every send went through, else "NAME: N of M SENDS
// failed, the first: …".
func (l *sendLog) err(name, sends string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d of %d %s failed, the first: %w", name, l.failed, l.attempts, sends, l.first)
}

func newPusher[T any](name string, send func(context.Context, T) error) *pusher[T] {
	p := &pusher[T]{name: name, send: send, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go p.loop()
	return p
}

// offer queues payload, replacing a snapshot not yet sent.
func (p *pusher[T]) offer(payload T) {
	p.mu.Lock()
	if !p.closed {
		p.pending = &payload
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *pusher[T]) loop() {
	defer close(p.done)
	for range p.wake {
		for {
			p.mu.Lock()
			next, closed := p.pending, p.closed
			p.pending = nil
			p.mu.Unlock()
			if next == nil {
				if closed {
					return
				}
				break
			}
			p.push(*next)
		}
	}
}

func (p *pusher[T]) push(payload T) {
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	p.sent.add(p.send(ctx, payload))
}

// close sends the snapshot still waiting (the final tick's), stops the
// goroutine and returns one error if any push failed.
func (p *pusher[T]) close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if !already {
		select {
		case p.wake <- struct{}{}:
		default: // a wake-up is already waiting
		}
	}
	<-p.done
	return p.sent.err(p.name, "pushes")
}
