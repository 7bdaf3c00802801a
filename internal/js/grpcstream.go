package js

import (
	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/protocol/grpcvu"
)

// grpcStream is k6's grpc.Stream. Its events come from the stream's
// receive goroutine through the VU's event loop, so handlers run on the
// VU's goroutine: while the script waits, or after the iteration's
// function returns and before the iteration ends, as in k6.
type grpcStream struct {
	v        *VU
	s        *grpcvu.Stream
	handlers map[string][]sobek.Callable
}

// newGRPCStream opens the stream: new grpc.Stream(client, method, params).
func (v *VU) newGRPCStream(c *grpcClient, method string, params sobek.Value) *sobek.Object {
	if v.inInit {
		v.throw("new grpc.Stream: not supported in the init context")
	}
	p := v.invokeParams("new grpc.Stream", params)
	gs := &grpcStream{v: v, handlers: map[string][]sobek.Callable{}}
	loop := v.events()
	t := loop.reserve()
	s, err := c.c.NewStream(v.resourceCtx(), method, p, func(ev grpcvu.StreamEvent) {
		t.post(func() error { return gs.dispatch(ev) }, ev.Kind == grpcvu.EventEnd)
	})
	if err != nil {
		t.post(func() error { return nil }, true)
		v.throw("new grpc.Stream: %v", err)
	}
	gs.s = s
	loop.onEnd(s.Cancel)
	o := v.rt.NewObject()
	_ = o.Set("on", func(event string, fn sobek.Value) sobek.Value {
		cb, ok := sobek.AssertFunction(fn)
		if !ok {
			v.throw("stream.on(%q): the handler must be a function", event)
		}
		switch event {
		case "data", "error", "end", "status":
		default:
			v.throw("stream.on: unknown event %q (use data, error, end or status)", event)
		}
		gs.handlers[event] = append(gs.handlers[event], cb)
		return o
	})
	_ = o.Set("write", func(msg sobek.Value) {
		if err := s.Write(v.stringify(msg)); err != nil {
			v.throw("stream.write: %v", err)
		}
	})
	_ = o.Set("end", func() {
		if err := s.End(); err != nil {
			v.throw("stream.end: %v", err)
		}
	})
	_ = o.Set("cancel", func() { s.Cancel() })
	return o
}

// dispatch runs the handlers of one event on the VU's goroutine.
func (gs *grpcStream) dispatch(ev grpcvu.StreamEvent) error {
	v := gs.v
	var arg sobek.Value
	name := ev.Kind.String()
	switch ev.Kind {
	case grpcvu.EventData:
		if len(gs.handlers["data"]) == 0 {
			return nil
		}
		arg = v.parseJSON(ev.Message)
	case grpcvu.EventError:
		arg = v.grpcError(ev.Status)
	case grpcvu.EventEnd:
		if err := gs.call("status", v.object(map[string]any{
			"code": int(ev.Status.Code()), "message": ev.Status.Message(),
			"headers": mdObject(ev.Headers), "trailers": mdObject(ev.Trailers),
		})); err != nil {
			return err
		}
		arg = sobek.Undefined()
	}
	return gs.call(name, arg)
}

func (gs *grpcStream) call(name string, arg sobek.Value) error {
	for _, fn := range gs.handlers[name] {
		if _, err := fn(sobek.Undefined(), arg); err != nil {
			return err
		}
	}
	return nil
}
