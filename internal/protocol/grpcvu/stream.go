package grpcvu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/surgeload/surge/internal/metrics"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// EventKind says what a stream event is: k6's 'data', 'error' and 'end'.
type EventKind uint8

const (
	EventData  EventKind = iota // a message arrived
	EventError                  // the stream failed; End follows
	EventEnd                    // the stream is over; always the last event
)

func (k EventKind) String() string {
	return [...]string{"data", "error", "end"}[k]
}

// StreamEvent is one event of a stream.
type StreamEvent struct {
	Stream  *Stream // the stream the event belongs to
	Kind    EventKind
	Message []byte         // data: the message as JSON
	Status  *status.Status // error and end: how the stream ended
	// Headers and Trailers are the server's metadata (end).
	Headers, Trailers metadata.MD
}

// Stream is one streaming call (k6's grpc.Stream): Write sends messages,
// End half-closes, and events arrive on the handler given to NewStream from
// the stream's receive goroutine, in order: data…, then error if the call
// failed, then end. A JS module hands them to its event loop.
type Stream struct {
	c       *Client
	m       *Method
	cs      grpc.ClientStream
	cancel  context.CancelFunc
	on      func(StreamEvent)
	shard   *metrics.Shard
	sent    *metrics.Agg
	recv    *metrics.Agg
	writes  int
	ended   bool
	discard bool // nobody listens: received messages are counted, not rendered
	parent  context.Context
	done    chan struct{}

	mu    sync.Mutex
	final *status.Status
	stop  bool // cancelled by the caller: not a failure to count
}

// NewStream opens a streaming call of any kind. on receives the stream's
// events (nil: ignore them and use Wait); an EventQueue's Push brings them
// to the VU's goroutine. p.Timeout bounds the whole
// stream; 0 means no limit.
func (c *Client) NewStream(ctx context.Context, name string, p InvokeParams, on func(StreamEvent)) (*Stream, error) {
	m, err := c.method("stream", name)
	if err != nil {
		return nil, err
	}
	if !m.ClientStreaming && !m.ServerStreaming {
		return nil, fmt.Errorf("stream %s: a unary method; use invoke", m.Path)
	}
	parent := ctx
	if len(p.Metadata) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(p.Metadata))
	}
	var cancel context.CancelFunc
	if p.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	desc := &grpc.StreamDesc{StreamName: string(m.Desc.Name()), ClientStreams: m.ClientStreaming, ServerStreams: m.ServerStreaming}
	cs, err := c.conn.CC.NewStream(ctx, desc, m.Path)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("stream %s: %w", m.Path, err)
	}
	discard := on == nil
	if discard {
		on = func(StreamEvent) {}
	}
	tags := c.tagsFor(m, -1, p.Tags)
	sh := c.st.Shard
	s := &Stream{c: c, m: m, cs: cs, cancel: cancel, on: on, shard: sh,
		sent: sh.Sink(c.m.MsgsSent, tags), recv: sh.Sink(c.m.MsgsReceived, tags), done: make(chan struct{}), discard: discard, parent: parent}
	sh.Add(c.m.Streams, tags, 1)
	go s.receive()
	return s, nil
}

// Write sends one JSON message. A message that does not match the schema is
// an error naming the field; a write to a stream that is over fails.
func (s *Stream) Write(req []byte) error {
	if !s.m.ClientStreaming && s.writes > 0 {
		return fmt.Errorf("stream %s: a server_stream method takes one request", s.m.Path)
	}
	if s.ended {
		return fmt.Errorf("stream %s: write after end", s.m.Path)
	}
	msg, err := s.c.schema.NewRequest(s.m, req)
	if err != nil {
		return fmt.Errorf("stream write: %w", err)
	}
	return s.send(msg)
}

// send sends a message that matches the schema.
func (s *Stream) send(msg proto.Message) error {
	if err := s.cs.SendMsg(msg); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("stream %s: write after the server ended the stream", s.m.Path)
		}
		return fmt.Errorf("stream %s: write: %w", s.m.Path, err)
	}
	s.writes++
	s.shard.Lock()
	s.sent.Add(1)
	s.shard.Unlock()
	if !s.m.ClientStreaming {
		return s.End() // the one request of a server stream is the whole request side
	}
	return nil
}

// End half-closes the stream: no more writes (k6's stream.end).
func (s *Stream) End() error {
	if s.ended {
		return nil
	}
	s.ended = true
	return s.cs.CloseSend()
}

// Cancel aborts the stream; its end event still follows.
func (s *Stream) Cancel() {
	s.mu.Lock()
	s.stop = true
	s.mu.Unlock()
	s.cancel()
}

// Method is the stream's method.
func (s *Stream) Method() *Method { return s.m }

// Done is closed after the end event.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Wait waits for the end of the stream and returns its final status.
func (s *Stream) Wait() *status.Status {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final
}

func (s *Stream) receive() {
	defer close(s.done)
	defer s.cancel()
	var final *status.Status
	for {
		out := dynamicpb.NewMessage(s.m.Desc.Output())
		err := s.cs.RecvMsg(out)
		if errors.Is(err, io.EOF) {
			final = status.New(codes.OK, "")
			break
		}
		if err != nil {
			final = status.Convert(err)
			break
		}
		s.shard.Lock()
		s.recv.Add(1)
		s.shard.Unlock()
		if s.discard {
			continue
		}
		js, err := s.c.schema.JSON(out)
		if err != nil {
			final = status.New(codes.Internal, "rendering a message: "+err.Error())
			break
		}
		s.on(StreamEvent{Stream: s, Kind: EventData, Message: js})
	}
	s.mu.Lock()
	s.final = final
	stopped := s.stop || s.parent.Err() != nil // cut off by the caller: not a failure
	s.mu.Unlock()
	hdr, _ := s.cs.Header()
	if final.Code() != codes.OK {
		if !stopped {
			s.c.st.Registry.Errors.Add("grpc", final.Code().String()+": "+final.Message(), s.m.Path)
		}
		s.on(StreamEvent{Stream: s, Kind: EventError, Status: final})
	}
	s.on(StreamEvent{Stream: s, Kind: EventEnd, Status: final, Headers: hdr, Trailers: s.cs.Trailer()})
}
