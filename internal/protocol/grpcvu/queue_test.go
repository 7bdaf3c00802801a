package grpcvu

import (
	"context"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
)

// Two streams share a queue; the VU drains it on its own goroutine until
// both have ended, as a JS module does at the end of an iteration.
func TestEventQueue(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	_, c := connected(t, srv)
	q := NewEventQueue()
	ctx := context.Background()
	a, err := c.NewStream(ctx, repeat, InvokeParams{}, q.Push)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.NewStream(ctx, chat, InvokeParams{}, q.Push)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write([]byte(`{"message":"a","repeat":3}`)); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{`{"message":"b1"}`, `{"message":"b2"}`} {
		if err := b.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	b.End()
	data := map[*Stream]int{}
	open := 2
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for open > 0 {
		ev, err := q.Next(dctx)
		if err != nil {
			t.Fatalf("draining: %v (data so far %v)", err, data)
		}
		switch ev.Kind {
		case EventData:
			data[ev.Stream]++
		case EventEnd:
			open--
		}
	}
	if data[a] != 3 || data[b] != 2 {
		t.Errorf("data events: repeat %d (want 3), chat %d (want 2)", data[a], data[b])
	}
	if _, ok := q.TryNext(); ok {
		t.Error("events left after both ends")
	}
	tctx, cancel2 := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel2()
	if _, err := q.Next(tctx); err == nil {
		t.Error("Next on an empty queue returned without an event")
	}
}
