package js

import (
	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/protocol/wsvu"
)

// websocketsModule is k6/websockets: new WebSocket(url, protocols, params)
// opens a session beside the VU; its events reach the script's handlers
// (addEventListener, onopen, onmessage, onclose, onerror) through the
// VU's event loop, and the iteration lasts until every socket it opened
// has closed (or the iteration is cut off, which closes them with 1001).
func (v *VU) websocketsModule() *sobek.Object {
	return v.lazy(map[string]any{
		"WebSocket": func(call sobek.ConstructorCall) *sobek.Object {
			p := v.wsParams("new WebSocket", call.Argument(2))
			if protos := call.Argument(1); !sobek.IsUndefined(protos) && !sobek.IsNull(protos) {
				if s, ok := protos.Export().(string); ok {
					p.Subprotocols = []string{s}
				} else if err := v.rt.ExportTo(protos, &p.Subprotocols); err != nil {
					v.throw("new WebSocket: protocols must be a string or an array of strings")
				}
			}
			return v.newWebSocket(call.Argument(0).String(), p)
		},
	})
}

// ReadyState values of a WebSocket.
const (
	wsConnecting = 0
	wsOpen       = 1
	wsClosing    = 2
	wsClosed     = 3
)

// webSocket is one k6/websockets socket.
type webSocket struct {
	v         *VU
	o         *sobek.Object
	sock      *wsvu.Socket // set when open arrives
	listeners map[string][]sobek.Callable
}

func (v *VU) newWebSocket(url string, p wsvu.Params) *sobek.Object {
	if v.inInit {
		v.throw("new WebSocket: not supported in the init context")
	}
	w := &webSocket{v: v, listeners: map[string][]sobek.Callable{}}
	o := v.rt.NewObject()
	w.o = o
	_ = o.Set("url", url)
	_ = o.Set("readyState", wsConnecting)
	_ = o.Set("binaryType", "arraybuffer")
	_ = o.Set("addEventListener", func(event string, fn sobek.Value) {
		cb, ok := sobek.AssertFunction(fn)
		if !ok {
			v.throw("addEventListener(%q): the listener must be a function", event)
		}
		w.listeners[event] = append(w.listeners[event], cb)
	})
	_ = o.Set("send", func(msg sobek.Value) {
		if w.sock == nil || o.Get("readyState").ToInteger() != wsOpen {
			v.throw("WebSocket.send: the socket is not open (readyState %d)", o.Get("readyState").ToInteger())
		}
		var err error
		if s, ok := msg.Export().(string); ok {
			err = w.sock.Send(s)
		} else {
			err = w.sock.SendBinary(bytesOf(msg))
		}
		if err != nil {
			v.throw("WebSocket.send: %v", err)
		}
	})
	_ = o.Set("ping", func() {
		if w.sock != nil {
			w.sock.Ping()
		}
	})
	_ = o.Set("close", func(call sobek.FunctionCall) sobek.Value {
		if w.sock != nil && o.Get("readyState").ToInteger() == wsOpen {
			_ = o.Set("readyState", wsClosing)
			w.sock.Close(int(call.Argument(0).ToInteger()))
		}
		return sobek.Undefined()
	})
	loop := v.events()
	t := loop.reserve()
	ctx := v.resourceCtx()
	st := v.st
	go func() {
		s, _, err := wsvu.Dial(ctx, st, url, p)
		if err != nil {
			t.post(func() error {
				if e := w.dispatch(wsvu.Event{Kind: wsvu.Error, Err: err}); e != nil {
					return e
				}
				return w.dispatch(wsvu.Event{Kind: wsvu.Close, Code: 1006})
			}, true)
			return
		}
		s.Start(func(ev wsvu.Event) {
			t.post(func() error { return w.dispatch(ev) }, ev.Kind == wsvu.Close)
		})
	}()
	return o
}

// dispatch delivers one event on the VU's goroutine: the on<event>
// property first, then the listeners.
func (w *webSocket) dispatch(ev wsvu.Event) error {
	v := w.v
	name := ev.Kind.String()
	e := v.object(map[string]any{"type": name, "target": w.o})
	switch ev.Kind {
	case wsvu.Open:
		w.sock = ev.Socket
		_ = w.o.Set("readyState", wsOpen)
	case wsvu.Message:
		_ = e.Set("data", string(ev.Data))
	case wsvu.BinaryMessage:
		name = "message"
		_ = e.Set("type", name)
		_ = e.Set("data", v.rt.NewArrayBuffer(ev.Data))
	case wsvu.Close:
		_ = w.o.Set("readyState", wsClosed)
		_ = e.Set("code", ev.Code)
		_ = e.Set("reason", ev.Reason)
	case wsvu.Error:
		_ = e.Set("error", ev.Err.Error())
		_ = e.Set("message", ev.Err.Error())
	}
	fns := w.listeners[name]
	if h, ok := sobek.AssertFunction(w.o.Get("on" + name)); ok {
		fns = append([]sobek.Callable{h}, fns...)
	}
	for _, fn := range fns {
		if _, err := fn(w.o, e); err != nil {
			return err
		}
	}
	return nil
}
