package js

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/protocol/httpvu"
	"github.com/surgeload/surge/internal/vu"
)

// VU is one virtual user: a sobek runtime that ran the script's init code.
// It is used by one goroutine at a time.
type VU struct {
	s       *Script
	rt      *sobek.Runtime
	st      *vu.State
	http    *httpvu.Client
	ctx     context.Context
	exports *sobek.Object
	modules map[string]sobek.Value
	env     map[string]string

	fn   sobek.Callable // the exec function
	data sobek.Value    // setup() result, parsed once

	respProto  *sobek.Object
	setIter    sobek.Callable // sets __ITER
	reqCache   map[string]*httpc.Request
	checkCache map[[2]string]*metrics.TagSet
	user       *userVU // Locust-style user state, nil for k6 iterations
	inInit     bool

	loop      *eventLoop         // made on first use (streams, async calls, sockets)
	resCtx    context.Context    // the iteration's resources; cancelled at its end
	resCancel context.CancelFunc // ends resCtx
	jsonFns   *jsonFns           // JSON.parse and JSON.stringify, looked up once
}

// Exception is an uncaught JavaScript exception in an iteration. It
// implements engine.Locator so that each distinct exception is shown once
// with its script line.
type Exception struct {
	Msg   string
	Where string // file:line
}

func (e *Exception) Error() string    { return e.Msg }
func (e *Exception) Location() string { return e.Where }

var _ engine.Locator = (*Exception)(nil)

// errStopped interrupts a runtime whose iteration's context ended.
var errStopped = errors.New("iteration stopped")

// initTimeout interrupts init code that runs too long.
type initTimeout struct {
	phase string
	d     time.Duration
}

func (e *initTimeout) Error() string {
	return fmt.Sprintf("%s did not finish within %s (an endless loop?)", e.phase, e.d)
}

// newVU creates a runtime, runs the init code and reads the exports.
// env adds to (overrides) the script's __ENV, for scenario env.
func (s *Script) newVU(ctx context.Context, st *vu.State, env map[string]string, controller bool) (*VU, error) {
	rt := sobek.New()
	rt.SetFieldNameMapper(sobek.UncapFieldNameMapper())
	v := &VU{s: s, rt: rt, st: st, ctx: ctx, modules: map[string]sobek.Value{}, inInit: true}
	v.env = s.cfg.Env
	if len(env) > 0 {
		v.env = make(map[string]string, len(s.cfg.Env)+len(env))
		for k, x := range s.cfg.Env {
			v.env[k] = x
		}
		for k, x := range env {
			v.env[k] = x
		}
	}
	hc := s.httpConfig()
	v.http = httpvu.New(st, hc)
	wrapper, err := rt.RunProgram(s.prg)
	if err != nil {
		return nil, s.phaseError("init", v.wrapErr(err))
	}
	fn, _ := sobek.AssertFunction(wrapper)
	module := rt.NewObject()
	exports := rt.NewObject()
	_ = module.Set("exports", exports)
	if _, err := v.callWithTimeout(ctx, s.cfg.InitTimeout, "init code", fn, v.wrapperArgs(exports, module)...); err != nil {
		return nil, s.phaseError("init", err)
	}
	ex := module.Get("exports")
	if ex == nil || sobek.IsUndefined(ex) || sobek.IsNull(ex) {
		ex = exports
	}
	v.exports = ex.ToObject(rt)
	v.inInit = false
	return v, nil
}

// toESM is the ES module view of a required module: the module itself
// as "default" and its exports through the prototype.
func (v *VU) toESM(mod sobek.Value) sobek.Value {
	o, ok := mod.(*sobek.Object)
	if !ok {
		return v.object(map[string]any{"default": mod})
	}
	if em := o.Get("__esModule"); em != nil && em.ToBoolean() {
		return o
	}
	ns := v.rt.CreateObject(o)
	_ = ns.Set("default", o)
	return ns
}

// export is esbuild's __export: live bindings as getters.
func (v *VU) export(target, all *sobek.Object) {
	for _, k := range all.Keys() {
		_ = target.DefineAccessorProperty(k, all.Get(k), nil, sobek.FLAG_FALSE, sobek.FLAG_TRUE)
	}
}

// toCommonJS is esbuild's __toCommonJS: the exports object, marked.
func (v *VU) toCommonJS(mod *sobek.Object) *sobek.Object {
	_ = mod.DefineDataProperty("__esModule", v.rt.ToValue(true), sobek.FLAG_FALSE, sobek.FLAG_FALSE, sobek.FLAG_FALSE)
	return mod
}

// wrapperArgs are the arguments of the compiled wrapper (see wrapperHead).
func (v *VU) wrapperArgs(exports, module *sobek.Object) []sobek.Value {
	rt := v.rt
	return []sobek.Value{
		exports, rt.ToValue(v.require), module, rt.ToValue(v.open),
		rt.ToValue(v.toESM), rt.ToValue(v.export), rt.ToValue(v.toCommonJS),
		rt.NewDynamicObject(&envObject{rt: rt, base: v.env}),
		rt.ToValue(v.st.ID), v.newConsole(),
		rt.ToValue(func(f sobek.Callable) { v.setIter = f }),
	}
}

// setIteration sets the script's __ITER.
func (v *VU) setIteration(n int64) {
	if v.setIter != nil {
		_, _ = v.setIter(sobek.Undefined(), v.rt.ToValue(n))
	}
}

// callWithTimeout calls fn, interrupting it after d.
func (v *VU) callWithTimeout(ctx context.Context, d time.Duration, phase string, fn sobek.Callable, args ...sobek.Value) (sobek.Value, error) {
	v.rt.ClearInterrupt()
	t := time.AfterFunc(d, func() { v.rt.Interrupt(&initTimeout{phase: phase, d: d}) })
	defer t.Stop()
	return v.call(ctx, fn, args...)
}

// inPhase runs f with the VU's requests and checks in the group
// "::setup" or "::teardown", as k6 tags what setup() and teardown() do
// (a threshold on http_req_duration{group:::setup} reads them; groups
// inside nest below it).
func (v *VU) inPhase(phase string, f func() (sobek.Value, error)) (sobek.Value, error) {
	parent := v.http.Group
	v.http.Group = "::" + phase
	defer func() { v.http.Group = parent }()
	return f()
}

// call runs fn with the VU's context set to ctx; the runtime is
// interrupted when ctx ends.
func (v *VU) call(ctx context.Context, fn sobek.Callable, args ...sobek.Value) (sobek.Value, error) {
	v.ctx = ctx
	stop := context.AfterFunc(ctx, func() { v.rt.Interrupt(errStopped) })
	res, err := fn(sobek.Undefined(), args...)
	if err == nil && (v.loop != nil || isPromise(res)) {
		res, err = v.settle(ctx, res)
	}
	v.endResources()
	if !stop() {
		// the interrupt was (or is being) delivered; ctx is done
		err = ctx.Err()
	}
	if err != nil {
		return nil, v.wrapErr(err)
	}
	return res, nil
}

// wrapErr turns sobek's errors into surge's: exceptions with their script
// position, aborts, stops and timeouts.
func (v *VU) wrapErr(err error) error {
	var ie *sobek.InterruptedError
	if errors.As(err, &ie) {
		switch x := ie.Value().(type) {
		case *engine.AbortError:
			return x
		case *initTimeout:
			return &ScriptError{File: v.s.Path, Msg: x.Error()}
		case error:
			if errors.Is(x, errStopped) {
				return context.Canceled
			}
			return x
		}
		return err
	}
	var ex *sobek.Exception
	if errors.As(err, &ex) {
		return &Exception{Msg: exceptionMessage(ex), Where: v.location(ex.Stack())}
	}
	var se *sobek.CompilerSyntaxError
	if errors.As(err, &se) {
		return &ScriptError{File: v.s.Path, Msg: se.Error()}
	}
	return err
}

func exceptionMessage(ex *sobek.Exception) string {
	val := ex.Value()
	if val == nil {
		return ex.Error()
	}
	if o, ok := val.(*sobek.Object); ok {
		if ab, ok := o.Export().(*engine.AbortError); ok {
			return ab.Error()
		}
	}
	return val.String()
}

// location is file:line of the innermost frame of the script.
func (v *VU) location(stack []sobek.StackFrame) string {
	for _, f := range stack {
		p := f.Position()
		if p.Line > 0 && p.Filename != "" {
			return fmt.Sprintf("%s:%d", shortName(p.Filename, v.s.Path), p.Line)
		}
	}
	return shortName(v.s.Path, v.s.Path)
}

// shortName shows a position's file as the user named the script.
func shortName(file, script string) string {
	file = strings.TrimPrefix(file, "file://")
	if strings.HasSuffix(script, file) || strings.HasSuffix(file, script) {
		return script
	}
	return file
}

// throw raises a JavaScript Error with msg from Go.
func (v *VU) throw(format string, args ...any) {
	panic(v.rt.NewGoError(fmt.Errorf(format, args...)))
}

// setupData is the VU's copy of setup()'s result.
func (v *VU) setupData() sobek.Value {
	if v.data != nil {
		return v.data
	}
	data := v.s.setupJSON
	if r := v.s.remote; r != nil {
		data = r.get()
	}
	if data == "" {
		v.data = sobek.Undefined()
		return v.data
	}
	parse, _ := sobek.AssertFunction(v.rt.Get("JSON").ToObject(v.rt).Get("parse"))
	d, err := parse(sobek.Undefined(), v.rt.ToValue(data))
	if err != nil {
		d = sobek.Undefined()
	}
	v.data = d
	return d
}
