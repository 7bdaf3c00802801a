package js

import (
	"net/http"
	"strings"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/wsvu"
)

// wsModule is k6/ws: ws.connect(url, params, fn) runs one session on the
// VU's goroutine and returns when it closes.
func (v *VU) wsModule() *sobek.Object {
	return v.lazy(map[string]any{
		"connect": func(call sobek.FunctionCall) sobek.Value {
			params, fnArg := call.Argument(1), call.Argument(2)
			if _, ok := sobek.AssertFunction(params); ok && sobek.IsUndefined(fnArg) {
				params, fnArg = sobek.Undefined(), params // ws.connect(url, fn)
			}
			fn, ok := sobek.AssertFunction(fnArg)
			if !ok {
				v.throw("ws.connect: the last argument must be a function(socket)")
			}
			return v.wsConnect(call.Argument(0).String(), v.wsParams("ws.connect", params), fn)
		},
	})
}

// wsParams parses connect's params: headers, tags, subprotocols,
// timeout, compression.
func (v *VU) wsParams(op string, params sobek.Value) wsvu.Params {
	var p wsvu.Params
	o, ok := params.(*sobek.Object)
	if !ok {
		return p
	}
	for _, k := range o.Keys() {
		x := o.Get(k)
		switch k {
		case "headers":
			p.Headers = http.Header{}
			for name, val := range v.stringMap(x) {
				p.Headers.Set(name, val)
			}
		case "tags":
			var extra []metrics.Tag
			for _, t := range v.tagsOf(x) {
				if t.Key == "name" {
					p.Name = t.Value
					continue
				}
				extra = append(extra, t)
			}
			if len(extra) > 0 {
				p.Tags = v.st.Registry.Intern(extra...)
			}
		case "subprotocols":
			if err := v.rt.ExportTo(x, &p.Subprotocols); err != nil {
				v.throw("%s: subprotocols must be an array of strings", op)
			}
		case "timeout":
			p.Timeout = v.duration(op+": timeout", x)
		case "compression":
			p.Compression = x.String() == "deflate"
		case "jar":
		default:
			v.throw("%s: unknown param %q (headers, tags, subprotocols, timeout, compression)", op, k)
		}
	}
	if p.TLS == nil && v.s.Options.InsecureSkipTLSVerify {
		p.TLS = insecureTLS()
	}
	return p
}

// wsSession is the state of one ws.connect call: its handlers and the
// first exception a handler threw, which ends the session and is
// rethrown from ws.connect.
type wsSession struct {
	v   *VU
	s   *wsvu.Socket
	err error
}

func (v *VU) wsConnect(url string, p wsvu.Params, fn sobek.Callable) sobek.Value {
	if v.inInit {
		v.throw("ws.connect: not supported in the init context")
	}
	ss := &wsSession{v: v}
	resp, err := wsvu.Connect(v.ctx, v.st, url, p, func(s *wsvu.Socket) {
		ss.s = s
		ss.guard(func() error {
			_, err := fn(sobek.Undefined(), ss.socketObject())
			return err
		})
	})
	if err != nil {
		if v.ctx.Err() != nil {
			v.rt.Interrupt(errStopped)
		}
		v.throw("ws.connect: %v", err)
	}
	if ss.err != nil {
		panic(ss.err)
	}
	return v.wsResponse(resp)
}

// guard runs a handler unless an earlier one threw; the first exception
// closes the session.
func (ss *wsSession) guard(run func() error) {
	if ss.err != nil {
		return
	}
	if err := run(); err != nil {
		ss.err = err
		ss.s.Close(0)
	}
}

// socketObject is the socket passed to ws.connect's function.
func (ss *wsSession) socketObject() *sobek.Object {
	v, s := ss.v, ss.s
	return v.object(map[string]any{
		"on": func(event string, fn sobek.Value) {
			k, err := wsvu.ParseEvent(event)
			if err != nil {
				v.throw("socket.on: %v", err)
			}
			cb, ok := sobek.AssertFunction(fn)
			if !ok {
				v.throw("socket.on(%q): the handler must be a function", event)
			}
			s.On(k, func(ev wsvu.Event) {
				ss.guard(func() error {
					_, err := cb(sobek.Undefined(), v.wsEventArg(ev)...)
					return err
				})
			})
		},
		"send": func(msg string) {
			if err := s.Send(msg); err != nil {
				v.throw("socket.send: %v", err)
			}
		},
		"sendBinary": func(b sobek.Value) {
			if err := s.SendBinary(bytesOf(b)); err != nil {
				v.throw("socket.sendBinary: %v", err)
			}
		},
		"ping": func() { s.Ping() },
		"close": func(call sobek.FunctionCall) sobek.Value {
			s.Close(int(call.Argument(0).ToInteger()))
			return sobek.Undefined()
		},
		"setTimeout": func(fn sobek.Callable, ms float64) {
			s.SetTimeout(ss.timer(fn), time.Duration(ms*float64(time.Millisecond)))
		},
		"setInterval": func(fn sobek.Callable, ms float64) {
			s.SetInterval(ss.timer(fn), time.Duration(ms*float64(time.Millisecond)))
		},
	})
}

func (ss *wsSession) timer(fn sobek.Callable) func() {
	return func() {
		ss.guard(func() error {
			_, err := fn(sobek.Undefined())
			return err
		})
	}
}

// wsEventArg is what a k6/ws handler receives for an event.
func (v *VU) wsEventArg(ev wsvu.Event) []sobek.Value {
	switch ev.Kind {
	case wsvu.Message:
		return []sobek.Value{v.rt.ToValue(string(ev.Data))}
	case wsvu.BinaryMessage:
		return []sobek.Value{v.rt.ToValue(v.rt.NewArrayBuffer(ev.Data))}
	case wsvu.Close:
		return []sobek.Value{v.rt.ToValue(ev.Code)}
	case wsvu.Error:
		msg := ev.Err.Error()
		return []sobek.Value{v.object(map[string]any{"error": func() string { return msg }})}
	}
	return nil
}

// wsResponse is connect's result: url, status, headers, subprotocol.
func (v *VU) wsResponse(r *wsvu.Response) sobek.Value {
	hdr := map[string]string{}
	for name, vs := range r.Headers {
		hdr[name] = strings.Join(vs, ", ")
	}
	return v.object(map[string]any{"url": r.URL, "status": r.Status, "headers": hdr, "subprotocol": r.Subprotocol})
}
