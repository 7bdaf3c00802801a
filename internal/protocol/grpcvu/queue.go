package grpcvu

import (
	"context"
	"sync"
)

// EventQueue hands stream events to the VU's goroutine, for a JS runtime
// that runs handlers only there: streams push from their goroutines (never
// blocking, so a slow VU cannot stall a stream's reader into a deadlock),
// and the VU takes them with Next, typically draining until every stream
// it opened has ended before the iteration finishes, as k6's event loop
// does. Several streams may share one queue; Event.Stream tells them
// apart.
type EventQueue struct {
	mu     sync.Mutex
	events []StreamEvent
	ready  chan struct{} // holds a token while events is not empty
}

// NewEventQueue returns an empty queue.
func NewEventQueue() *EventQueue { return &EventQueue{ready: make(chan struct{}, 1)} }

// Push adds an event; use it as NewStream's handler.
func (q *EventQueue) Push(ev StreamEvent) {
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Next returns the oldest event, waiting for one until ctx ends.
func (q *EventQueue) Next(ctx context.Context) (StreamEvent, error) {
	for {
		if ev, ok := q.TryNext(); ok {
			return ev, nil
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return StreamEvent{}, ctx.Err()
		}
	}
}

// TryNext returns the oldest event if there is one.
func (q *EventQueue) TryNext() (StreamEvent, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.events) == 0 {
		return StreamEvent{}, false
	}
	ev := q.events[0]
	q.events[0] = StreamEvent{}
	q.events = q.events[1:]
	if len(q.events) > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return ev, true
}
