package js

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"math/rand"
	"sort"
	"strings"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// moduleNames are the modules a script may import.
var moduleNames = []string{"k6", "k6/crypto", "k6/data", "k6/encoding", "k6/execution", "k6/http", "k6/metrics", "k6/net/grpc", "k6/websockets", "k6/ws", "surge/locust", "surge/sql"}

// require returns a module, built once per VU.
func (v *VU) require(name string) sobek.Value {
	if m, ok := v.modules[name]; ok {
		return m
	}
	var m *sobek.Object
	switch name {
	case "k6":
		m = v.k6Module()
	case "k6/http":
		m = v.httpModule()
	case "k6/metrics":
		m = v.metricsModule()
	case "k6/execution":
		m = v.executionModule()
	case "k6/encoding":
		m = v.encodingModule()
	case "k6/crypto":
		m = v.cryptoModule()
	case "k6/data":
		m = v.dataModule()
	case "surge/locust":
		m = v.locustModule()
	case "k6/net/grpc":
		m = v.grpcModule()
	case "k6/ws":
		m = v.wsModule()
	case "k6/websockets":
		m = v.websocketsModule()
	case "surge/sql":
		m = v.sqlModule()
	default:
		v.throw("unknown module %q; the modules are %s", name, strings.Join(moduleNames, ", "))
	}
	v.modules[name] = m
	return m
}

// set sets properties on a new object.
func (v *VU) object(props map[string]any) *sobek.Object {
	o := v.rt.NewObject()
	for k, x := range props {
		_ = o.Set(k, x)
	}
	return o
}

func (v *VU) open(name string, mode string) sobek.Value {
	b, err := v.s.readFile(name)
	if err != nil {
		v.throw("open(%q): %v", name, err)
	}
	if mode == "b" {
		return v.rt.ToValue(v.rt.NewArrayBuffer(append([]byte(nil), b...)))
	}
	return v.rt.ToValue(string(b))
}

func (v *VU) newConsole() *sobek.Object {
	logAt := func(level string) func(call sobek.FunctionCall) sobek.Value {
		return func(call sobek.FunctionCall) sobek.Value {
			parts := make([]string, len(call.Arguments))
			for i, a := range call.Arguments {
				parts[i] = v.format(a)
			}
			v.s.console(level, strings.Join(parts, " "))
			return sobek.Undefined()
		}
	}
	return v.lazy(map[string]any{
		"log": logAt("INFO"), "info": logAt("INFO"), "debug": logAt("DEBUG"),
		"warn": logAt("WARN"), "error": logAt("ERROR"),
	})
}

// format renders a console argument: strings as they are, objects as JSON.
func (v *VU) format(a sobek.Value) string {
	if o, ok := a.(*sobek.Object); ok {
		if _, isFn := sobek.AssertFunction(o); !isFn && o.ClassName() != "Error" {
			if b, err := json.Marshal(o.Export()); err == nil {
				return string(b)
			}
		}
	}
	return a.String()
}

// k6Module is k6: check, group, sleep, fail, randomSeed.
func (v *VU) k6Module() *sobek.Object {
	return v.lazy(map[string]any{
		"check": func(call sobek.FunctionCall) sobek.Value {
			sets, _ := call.Argument(1).(*sobek.Object)
			return v.rt.ToValue(v.check(call.Argument(0), sets, call.Argument(2)))
		},
		"group": v.group,
		"sleep": func(call sobek.FunctionCall) sobek.Value {
			v.sleep(call.Argument(0).ToFloat())
			return sobek.Undefined()
		},
		"fail":       func(msg string) { v.throw("%s", msg) },
		"randomSeed": func(seed int64) { v.rt.SetRandSource(rand.New(rand.NewSource(seed)).Float64) },
	})
}

// check evaluates each named condition on val, records it in the checks
// metric and returns whether all passed. A condition that throws throws.
func (v *VU) check(val sobek.Value, sets *sobek.Object, tags sobek.Value) bool {
	if sets == nil {
		return true
	}
	all := true
	extra := v.tagsOf(tags)
	for _, name := range sets.Keys() {
		c := sets.Get(name)
		ok := false
		if fn, isFn := sobek.AssertFunction(c); isFn {
			r, err := fn(sobek.Undefined(), val)
			if err != nil {
				panic(err)
			}
			ok = r.ToBoolean()
		} else {
			ok = c.ToBoolean()
		}
		x := 0.0
		if ok {
			x = 1
		} else {
			all = false
		}
		v.st.Shard.Add(v.st.Registry.Builtin.Checks, v.checkTags(name, extra), x)
	}
	return all
}

// tagsOf converts a JS tags object to tags.
func (v *VU) tagsOf(t sobek.Value) []metrics.Tag {
	if t == nil || sobek.IsUndefined(t) || sobek.IsNull(t) {
		return nil
	}
	o := t.ToObject(v.rt)
	keys := o.Keys()
	sort.Strings(keys)
	out := make([]metrics.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, metrics.Tag{Key: k, Value: o.Get(k).String()})
	}
	return out
}

// checkTags is the tag set of a check, cached per VU when the check has
// no extra tags.
func (v *VU) checkTags(name string, extra []metrics.Tag) *metrics.TagSet {
	k := [2]string{name, v.http.Group}
	if len(extra) == 0 {
		if ts, ok := v.checkCache[k]; ok {
			return ts
		}
	}
	tags := append([]metrics.Tag{{Key: "check", Value: name}, {Key: "group", Value: v.http.Group}}, extra...)
	ts := v.st.Registry.With(v.st.Tags, tags...)
	if len(extra) == 0 {
		if v.checkCache == nil {
			v.checkCache = map[[2]string]*metrics.TagSet{}
		}
		v.checkCache[k] = ts
	}
	return ts
}

func (v *VU) group(name string, fn sobek.Callable) sobek.Value {
	parent := v.http.Group
	v.http.Group = parent + "::" + name
	defer func() { v.http.Group = parent }()
	r, err := fn(sobek.Undefined())
	if err != nil {
		panic(err)
	}
	return r
}

// sleep pauses the VU; the iteration's end cuts it short.
func (v *VU) sleep(secs float64) {
	if secs <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(secs * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-v.ctx.Done():
	}
}

// metricsModule is k6/metrics: Counter, Gauge, Rate, Trend.
func (v *VU) metricsModule() *sobek.Object {
	ctor := func(typ metrics.Type) func(call sobek.ConstructorCall) *sobek.Object {
		return func(call sobek.ConstructorCall) *sobek.Object {
			name := call.Argument(0).String()
			if !metrics.ValidName(name) {
				v.throw("invalid metric name %q", name)
			}
			vt := metrics.Default
			if typ == metrics.Trend && call.Argument(1).ToBoolean() {
				vt = metrics.Time
			}
			m, err := v.st.Registry.New(name, typ, vt)
			if err != nil {
				v.throw("metric %q: %v", name, err)
			}
			o := call.This
			_ = o.Set("name", name)
			_ = o.Set("add", func(value sobek.Value, tags sobek.Value) {
				if v.inInit {
					v.throw("metric %q: add() is not allowed in the init context", name)
				}
				x := value.ToFloat()
				if typ == metrics.Rate {
					x = 0
					if value.ToBoolean() {
						x = 1
					}
				}
				ts := v.st.Tags
				if extra := v.tagsOf(tags); len(extra) > 0 {
					ts = v.st.Registry.With(ts, extra...)
				}
				v.st.Shard.Add(m, ts, x)
			})
			return nil
		}
	}
	return v.lazy(map[string]any{
		"Counter": ctor(metrics.Counter), "Gauge": ctor(metrics.Gauge),
		"Rate": ctor(metrics.Rate), "Trend": ctor(metrics.Trend),
	})
}

// executionModule is k6/execution.
func (v *VU) executionModule() *sobek.Object {
	rt := v.rt
	getter := func(o *sobek.Object, name string, f func() any) {
		_ = o.DefineAccessorProperty(name, rt.ToValue(func() any { return f() }), nil, sobek.FLAG_FALSE, sobek.FLAG_TRUE)
	}
	vuo := rt.NewObject()
	getter(vuo, "idInTest", func() any { return v.st.ID })
	getter(vuo, "idInInstance", func() any { return v.st.ID })
	getter(vuo, "iterationInScenario", func() any { return v.st.Iteration })
	getter(vuo, "iterationInInstance", func() any { return v.st.Iteration })
	sc := rt.NewObject()
	getter(sc, "name", func() any { return v.st.Scenario })
	getter(sc, "iterationInTest", func() any { return v.st.Iteration })
	getter(sc, "startTime", func() any { return v.st.Registry.StartTime().UnixMilli() })
	inst := rt.NewObject()
	getter(inst, "currentTestRunDuration", func() any {
		return float64(time.Since(v.st.Registry.StartTime())) / float64(time.Millisecond)
	})
	test := v.object(map[string]any{
		"abort": func(reason sobek.Value) {
			msg := "test.abort() called"
			if reason != nil && !sobek.IsUndefined(reason) {
				msg = reason.String()
			}
			v.rt.Interrupt(&engine.AbortError{Reason: msg})
		},
	})
	return v.object(map[string]any{"vu": vuo, "scenario": sc, "instance": inst, "test": test})
}

// bytesOf reads a string or ArrayBuffer argument.
func bytesOf(x sobek.Value) []byte {
	if x == nil {
		return nil
	}
	switch e := x.Export().(type) {
	case sobek.ArrayBuffer:
		return e.Bytes()
	case []byte:
		return e
	}
	return []byte(x.String())
}

// encodingModule is k6/encoding: b64encode, b64decode.
func (v *VU) encodingModule() *sobek.Object {
	enc := func(kind string) *base64.Encoding {
		switch kind {
		case "rawstd":
			return base64.RawStdEncoding
		case "url":
			return base64.URLEncoding
		case "rawurl":
			return base64.RawURLEncoding
		}
		return base64.StdEncoding
	}
	return v.lazy(map[string]any{
		"b64encode": func(in sobek.Value, kind string) string { return enc(kind).EncodeToString(bytesOf(in)) },
		"b64decode": func(in string, kind, format string) sobek.Value {
			b, err := enc(kind).DecodeString(in)
			if err != nil {
				v.throw("b64decode: %v", err)
			}
			if format == "s" {
				return v.rt.ToValue(string(b))
			}
			return v.rt.ToValue(v.rt.NewArrayBuffer(b))
		},
	})
}

// cryptoModule is k6/crypto: hashes and hmac, hex or base64 output.
func (v *VU) cryptoModule() *sobek.Object {
	algs := map[string]func() hash.Hash{
		"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
	}
	out := func(sum []byte, enc string) sobek.Value {
		switch enc {
		case "base64":
			return v.rt.ToValue(base64.StdEncoding.EncodeToString(sum))
		case "base64url":
			return v.rt.ToValue(base64.URLEncoding.EncodeToString(sum))
		case "base64rawurl":
			return v.rt.ToValue(base64.RawURLEncoding.EncodeToString(sum))
		case "binary":
			return v.rt.ToValue(v.rt.NewArrayBuffer(sum))
		}
		return v.rt.ToValue(hex.EncodeToString(sum))
	}
	m := map[string]any{}
	for name, h := range algs {
		h := h
		m[name] = func(in sobek.Value, enc string) sobek.Value {
			d := h()
			d.Write(bytesOf(in))
			return out(d.Sum(nil), enc)
		}
	}
	m["hmac"] = func(alg string, secret, data sobek.Value, enc string) sobek.Value {
		h, ok := algs[alg]
		if !ok {
			v.throw("hmac: unknown algorithm %q", alg)
		}
		mac := hmac.New(h, bytesOf(secret))
		mac.Write(bytesOf(data))
		return out(mac.Sum(nil), enc)
	}
	return v.lazy(m)
}

// dataModule is k6/data: SharedArray keeps one copy of its data for all
// VUs (as JSON per element, parsed on access).
func (v *VU) dataModule() *sobek.Object {
	return v.lazy(map[string]any{
		"SharedArray": func(call sobek.ConstructorCall) *sobek.Object {
			name := call.Argument(0).String()
			fn, ok := sobek.AssertFunction(call.Argument(1))
			if !ok {
				v.throw("SharedArray %q: the second argument must be a function", name)
			}
			elems := v.s.sharedArray(name, func() []string {
				r, err := fn(sobek.Undefined())
				if err != nil {
					panic(err)
				}
				arr, ok := r.Export().([]any)
				if !ok {
					v.throw("SharedArray %q: the function must return an array", name)
				}
				out := make([]string, len(arr))
				for i, e := range arr {
					b, err := json.Marshal(e)
					if err != nil {
						v.throw("SharedArray %q: element %d: %v", name, i, err)
					}
					out[i] = string(b)
				}
				return out
			})
			return v.rt.NewDynamicArray(&sharedArray{v: v, elems: elems})
		},
	})
}

func (s *Script) sharedArray(name string, build func() []string) []string {
	s.sharedMu.Lock()
	defer s.sharedMu.Unlock()
	if e, ok := s.shared[name]; ok {
		return e
	}
	e := build()
	s.shared[name] = e
	return e
}

type sharedArray struct {
	v     *VU
	elems []string
}

func (a *sharedArray) Len() int { return len(a.elems) }
func (a *sharedArray) Get(i int) sobek.Value {
	if i < 0 || i >= len(a.elems) {
		return sobek.Undefined()
	}
	var x any
	_ = json.Unmarshal([]byte(a.elems[i]), &x)
	return a.v.rt.ToValue(x)
}
func (a *sharedArray) Set(int, sobek.Value) bool { return false }
func (a *sharedArray) SetLen(int) bool           { return false }
