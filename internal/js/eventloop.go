package js

import (
	"context"
	"strings"
	"sync"

	"github.com/grafana/sobek"
)

// eventLoop brings work from other goroutines (a stream's receiver, an
// asyncInvoke, a WebSocket's reader) onto the VU's goroutine, where its
// runtime may run: k6's event loop. A resource that will call back
// reserves the loop first (reserve); its callbacks are posted with post,
// and its last one releases the reservation. The iteration (or setup,
// teardown, a Locust task) ends only when no reservation is left and the
// queue is empty, so handlers run before the iteration is counted.
//
// Each iteration is one epoch: begin drops what an earlier iteration left
// (its resources were cancelled at its end), so a late event of a stream
// cut off at the last iteration's end never runs in the next one.
type eventLoop struct {
	mu      sync.Mutex
	epoch   uint64
	pending int // reservations of this epoch not yet released
	queue   []posted
	ready   chan struct{} // holds a token while queue is not empty

	cancels []func() // this epoch's resources, stopped at its end
}

type posted struct {
	epoch   uint64
	fn      func() error
	release bool
}

// ticket is one reservation of the loop.
type ticket struct {
	l     *eventLoop
	epoch uint64
}

func newEventLoop() *eventLoop { return &eventLoop{ready: make(chan struct{}, 1)} }

// reserve keeps the loop alive until a callback posted with release.
func (l *eventLoop) reserve() ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending++
	return ticket{l, l.epoch}
}

// onEnd registers a function that stops a resource at the end of the
// iteration (streams are cancelled, sockets closed).
func (l *eventLoop) onEnd(stop func()) {
	l.mu.Lock()
	l.cancels = append(l.cancels, stop)
	l.mu.Unlock()
}

// post queues fn to run on the VU's goroutine; with release it is the
// reservation's last callback. It is safe from any goroutine.
func (t ticket) post(fn func() error, release bool) {
	l := t.l
	l.mu.Lock()
	if t.epoch != l.epoch {
		l.mu.Unlock()
		return // its iteration is over
	}
	l.queue = append(l.queue, posted{t.epoch, fn, release})
	l.mu.Unlock()
	select {
	case l.ready <- struct{}{}:
	default:
	}
}

// next takes the oldest callback; ok is false when nothing is queued and
// nothing is reserved.
func (l *eventLoop) next() (p posted, ok, idle bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) > 0 {
		p = l.queue[0]
		l.queue[0] = posted{}
		l.queue = l.queue[1:]
		if p.release {
			l.pending--
		}
		return p, true, false
	}
	return posted{}, false, l.pending == 0
}

// run runs callbacks until no reservation is left, a callback fails, or
// ctx ends.
func (l *eventLoop) run(ctx context.Context) error {
	for {
		p, ok, idle := l.next()
		if ok {
			if err := p.fn(); err != nil {
				return err
			}
			continue
		}
		if idle {
			return nil
		}
		select {
		case <-l.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// end stops the epoch's resources and starts a new epoch.
func (l *eventLoop) end() {
	l.mu.Lock()
	cancels := l.cancels
	l.cancels = nil
	l.epoch++
	l.pending = 0
	l.queue = nil
	l.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// events is the VU's event loop, made on first use.
func (v *VU) events() *eventLoop {
	if v.loop == nil {
		v.loop = newEventLoop()
	}
	return v.loop
}

// resourceCtx is the context of what the iteration opens that outlives a
// call (streams, async calls, sockets): it ends with the iteration, or
// when the iteration's context ends. It is made on first use, so
// iterations that open nothing pay nothing.
//
// It carries no deadline: gRPC would send the iteration's deadline to the
// server, whose timer can fire first and fail the stream with
// DeadlineExceeded before surge has seen the iteration cut off (counted
// as an error and a finished iteration, not an interrupt).
func (v *VU) resourceCtx() context.Context {
	if v.resCtx == nil {
		ctx, cancel := context.WithCancel(context.WithoutCancel(v.ctx))
		stop := context.AfterFunc(v.ctx, cancel)
		v.resCtx = ctx
		v.resCancel = func() { stop(); cancel() }
	}
	return v.resCtx
}

// endResources stops what the iteration left open and starts a new epoch
// of the event loop.
func (v *VU) endResources() {
	if v.loop != nil {
		v.loop.end()
	}
	if v.resCancel != nil {
		v.resCancel()
		v.resCtx, v.resCancel = nil, nil
	}
}

func isPromise(x sobek.Value) bool {
	if o, ok := x.(*sobek.Object); ok {
		_, ok := o.Export().(*sobek.Promise)
		return ok
	}
	return false
}

// settle runs the event loop until nothing is pending, then unwraps res
// when it is a promise (an async exec function): a rejection is the
// iteration's exception.
func (v *VU) settle(ctx context.Context, res sobek.Value) (sobek.Value, error) {
	if v.loop != nil {
		if err := v.loop.run(ctx); err != nil {
			return nil, err
		}
	}
	o, ok := res.(*sobek.Object)
	if !ok {
		return res, nil
	}
	p, ok := o.Export().(*sobek.Promise)
	if !ok {
		return res, nil
	}
	switch p.State() {
	case sobek.PromiseStateRejected:
		r := p.Result()
		where := v.location(nil)
		if ro, ok := r.(*sobek.Object); ok {
			if st := ro.Get("stack"); st != nil {
				where = v.stackLocation(st.String(), where)
			}
		}
		return nil, &Exception{Msg: r.String(), Where: where}
	case sobek.PromiseStateFulfilled:
		return p.Result(), nil
	}
	return sobek.Undefined(), nil
}

// stackLocation finds file:line in the first "at" line of a JS stack.
func (v *VU) stackLocation(stack, def string) string {
	for _, line := range strings.Split(stack, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "at ") {
			continue
		}
		if i := strings.LastIndexByte(line, '('); i >= 0 {
			line = strings.TrimSuffix(line[i+1:], ")")
		} else {
			line = strings.TrimPrefix(line, "at ")
		}
		parts := strings.Split(line, ":")
		if len(parts) >= 2 {
			return shortName(strings.Join(parts[:len(parts)-2], ":"), v.s.Path) + ":" + parts[len(parts)-2]
		}
	}
	return def
}

// jsonFns are the runtime's JSON.parse and JSON.stringify.
type jsonFns struct{ parse, stringify sobek.Callable }

func (v *VU) json() *jsonFns {
	if v.jsonFns == nil {
		j := v.rt.Get("JSON").ToObject(v.rt)
		p, _ := sobek.AssertFunction(j.Get("parse"))
		s, _ := sobek.AssertFunction(j.Get("stringify"))
		v.jsonFns = &jsonFns{parse: p, stringify: s}
	}
	return v.jsonFns
}

// parseJSON parses b in the runtime (null when b is empty).
func (v *VU) parseJSON(b []byte) sobek.Value {
	if len(b) == 0 {
		return sobek.Null()
	}
	r, err := v.json().parse(sobek.Undefined(), v.rt.ToValue(string(b)))
	if err != nil {
		panic(err)
	}
	return r
}

// stringify renders x as JSON (a string is taken as JSON already).
func (v *VU) stringify(x sobek.Value) []byte {
	if x == nil || sobek.IsUndefined(x) || sobek.IsNull(x) {
		return nil
	}
	if s, ok := x.Export().(string); ok {
		return []byte(s)
	}
	r, err := v.json().stringify(sobek.Undefined(), x)
	if err != nil {
		panic(err)
	}
	return []byte(r.String())
}
