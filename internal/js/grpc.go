package js

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/grafana/sobek"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/surgeload/surge/internal/protocol/grpcvu"
)

// grpcModule is k6/net/grpc: Client, Stream and the status constants.
func (v *VU) grpcModule() *sobek.Object {
	m := map[string]any{
		"Client": func(call sobek.ConstructorCall) *sobek.Object {
			return v.rt.ToValue(&grpcClient{v: v, c: grpcvu.New(v.st)}).(*sobek.Object)
		},
		"Stream": func(call sobek.ConstructorCall) *sobek.Object {
			c, ok := call.Argument(0).Export().(*grpcClient)
			if !ok {
				v.throw("new grpc.Stream: the first argument must be a grpc.Client")
			}
			return v.newGRPCStream(c, call.Argument(1).String(), call.Argument(2))
		},
	}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		m["Status"+grpcStatusName(c)] = int(c)
	}
	for name, n := range grpc_health_v1.HealthCheckResponse_ServingStatus_value {
		m["HealthCheck"+healthName(name)] = int(n)
	}
	return v.lazy(m)
}

// grpcStatusName is k6's constant suffix of a code: OK, Canceled,
// DeadlineExceeded …
func grpcStatusName(c codes.Code) string {
	if c == codes.OK {
		return "OK"
	}
	return c.String()
}

// healthName turns SERVICE_UNKNOWN into ServiceUnknown, k6's constant
// suffix (HealthCheckServing …).
func healthName(s string) string {
	out := make([]byte, 0, len(s))
	up := true
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '_':
			up = true
			continue
		case up:
			up = false
		case ch >= 'A' && ch <= 'Z':
			ch += 'a' - 'A'
		}
		out = append(out, ch)
	}
	return string(out)
}

// grpcClient is a k6 grpc.Client: one per `new grpc.Client()` in a VU.
// Its methods are exported to the script with lower-case names.
type grpcClient struct {
	v *VU
	c *grpcvu.Client
}

// Load is client.load(importPaths, ...files), in the init context. Relative
// paths are the script's directory's.
func (g *grpcClient) Load(paths sobek.Value, files ...string) []string {
	v := g.v
	if !v.inInit {
		v.throw("client.load: call it in the init context (outside the default function)")
	}
	var dirs []string
	if paths != nil && !sobek.IsUndefined(paths) && !sobek.IsNull(paths) {
		if err := v.rt.ExportTo(paths, &dirs); err != nil {
			v.throw("client.load: importPaths must be an array of directories: %v", err)
		}
	}
	for i, d := range dirs {
		dirs[i] = v.s.resolve(d)
	}
	if len(dirs) == 0 {
		dirs = []string{v.s.dir}
	}
	methods, err := g.c.Load(dirs, files...)
	if err != nil {
		v.throw("client.load: %v", err)
	}
	return methods
}

// LoadProtoset is client.loadProtoset(path), in the init context.
func (g *grpcClient) LoadProtoset(path string) []string {
	v := g.v
	if !v.inInit {
		v.throw("client.loadProtoset: call it in the init context (outside the default function)")
	}
	methods, err := g.c.LoadProtoset(v.s.resolve(path))
	if err != nil {
		v.throw("client.loadProtoset: %v", err)
	}
	return methods
}

// Connect is client.connect(addr, params).
func (g *grpcClient) Connect(addr string, params sobek.Value) bool {
	v := g.v
	if v.inInit {
		v.throw("client.connect: connecting in the init context is not supported; connect in the default function or setup()")
	}
	p := v.connectParams(params)
	if err := g.c.Connect(v.ctx, addr, p); err != nil {
		v.throw("client.connect: %v", err)
	}
	return true
}

// connectParams parses connect's params.
func (v *VU) connectParams(params sobek.Value) grpcvu.ConnectParams {
	var p grpcvu.ConnectParams
	o, ok := params.(*sobek.Object)
	if !ok {
		return p
	}
	for _, k := range o.Keys() {
		x := o.Get(k)
		switch k {
		case "plaintext":
			p.Plaintext = x.ToBoolean()
		case "reflect":
			p.Reflect = x.ToBoolean()
		case "reflectMetadata":
			p.ReflectMetadata = v.stringMap(x)
		case "timeout":
			p.Timeout = v.duration("client.connect: timeout", x)
		case "maxReceiveSize":
			p.MaxReceiveSize = int(x.ToInteger())
		case "maxSendSize":
			p.MaxSendSize = int(x.ToInteger())
		case "authority":
			p.Authority = x.String()
		case "tls":
			p.TLS = v.grpcTLS(x)
		default:
			v.throw("client.connect: unknown param %q (plaintext, reflect, reflectMetadata, timeout, maxReceiveSize, maxSendSize, authority, tls)", k)
		}
	}
	return p
}

// grpcTLS parses tls: {cert, key, cacerts}.
func (v *VU) grpcTLS(x sobek.Value) *tls.Config {
	o, ok := x.(*sobek.Object)
	if !ok {
		return nil
	}
	var cas [][]byte
	if ca := o.Get("cacerts"); ca != nil && !sobek.IsUndefined(ca) {
		var list []string
		if s, ok := ca.Export().(string); ok {
			list = []string{s}
		} else if err := v.rt.ExportTo(ca, &list); err != nil {
			v.throw("client.connect: tls.cacerts must be a PEM string or an array of them")
		}
		for _, s := range list {
			cas = append(cas, []byte(s))
		}
	}
	cfg, err := grpcvu.TLSFromPEM([]byte(getString(o, "cert", "")), []byte(getString(o, "key", "")), cas...)
	if err != nil {
		v.throw("client.connect: %v", err)
	}
	return cfg
}

// invokeParams parses invoke's and a stream's params.
func (v *VU) invokeParams(op string, params sobek.Value) grpcvu.InvokeParams {
	var p grpcvu.InvokeParams
	o, ok := params.(*sobek.Object)
	if !ok {
		return p
	}
	for _, k := range o.Keys() {
		x := o.Get(k)
		switch k {
		case "metadata":
			p.Metadata = v.stringMap(x)
		case "tags":
			if tags := v.tagsOf(x); len(tags) > 0 {
				p.Tags = v.st.Registry.Intern(tags...)
			}
		case "timeout":
			p.Timeout = v.duration(op+": timeout", x)
		case "discardResponseMessage":
			p.DiscardResponseMessage = x.ToBoolean()
		default:
			v.throw("%s: unknown param %q (metadata, tags, timeout, discardResponseMessage)", op, k)
		}
	}
	return p
}

// Invoke is client.invoke(method, request, params).
func (g *grpcClient) Invoke(method string, req, params sobek.Value) sobek.Value {
	v := g.v
	if v.inInit {
		v.throw("client.invoke: not supported in the init context")
	}
	p := v.invokeParams("client.invoke", params)
	resp, err := g.c.Invoke(v.ctx, method, v.stringify(req), p)
	if err != nil {
		if v.ctx.Err() != nil {
			v.rt.Interrupt(errStopped)
		}
		v.throw("client.%v", err)
	}
	return v.grpcResponse(resp)
}

// AsyncInvoke is client.asyncInvoke: a promise settled on the VU's event
// loop. Script mistakes throw at once, as invoke's do.
func (g *grpcClient) AsyncInvoke(method string, req, params sobek.Value) sobek.Value {
	v := g.v
	if v.inInit {
		v.throw("client.asyncInvoke: not supported in the init context")
	}
	p := v.invokeParams("client.asyncInvoke", params)
	promise, resolve, reject := v.rt.NewPromise()
	t := v.events().reserve()
	err := g.c.InvokeAsync(v.resourceCtx(), method, v.stringify(req), p, func(resp *grpcvu.Response, err error) {
		t.post(func() error {
			if err != nil {
				return reject(v.rt.NewGoError(fmt.Errorf("client.asyncInvoke: %w", err)))
			}
			return resolve(v.grpcResponse(resp))
		}, true)
	})
	if err != nil {
		t.post(func() error { return nil }, true)
		v.throw("client.%v", err)
	}
	return v.rt.ToValue(promise)
}

// HealthCheck is client.healthCheck(service): a response whose
// message.status is a grpc.HealthCheck* constant.
func (g *grpcClient) HealthCheck(service sobek.Value) sobek.Value {
	v := g.v
	name := ""
	if service != nil && !sobek.IsUndefined(service) {
		name = service.String()
	}
	st, err := g.c.HealthCheck(v.ctx, name)
	if err != nil {
		v.throw("client.healthCheck: %v", err)
	}
	msg := v.object(map[string]any{"status": int(grpc_health_v1.HealthCheckResponse_ServingStatus_value[st])})
	return v.object(map[string]any{"status": int(codes.OK), "message": msg})
}

// Close is client.close().
func (g *grpcClient) Close() {
	if err := g.c.Close(); err != nil {
		g.v.throw("client.close: %v", err)
	}
}

// grpcResponse is k6's response object. Its fields are made when the
// script reads them: a script that checks only the status never parses
// the reply.
func (v *VU) grpcResponse(r *grpcvu.Response) sobek.Value {
	return v.rt.NewDynamicObject(&grpcResponse{v: v, r: r})
}

type grpcResponse struct {
	v    *VU
	r    *grpcvu.Response
	made map[string]sobek.Value // fields made, and fields set by the script
}

var grpcResponseKeys = []string{"status", "message", "headers", "trailers", "error"}

func (g *grpcResponse) Get(k string) sobek.Value {
	if x, ok := g.made[k]; ok {
		return x
	}
	v, r := g.v, g.r
	var x sobek.Value
	switch k {
	case "status":
		return v.rt.ToValue(int(r.Status))
	case "message":
		x = v.parseJSON(r.Message)
	case "headers":
		x = v.rt.ToValue(mdObject(r.Headers))
	case "trailers":
		x = v.rt.ToValue(mdObject(r.Trailers))
	case "error":
		x = v.grpcError(r.Error)
	default:
		return nil
	}
	g.Set(k, x) // objects keep their identity
	return x
}

func (g *grpcResponse) Set(k string, val sobek.Value) bool {
	if g.made == nil {
		g.made = make(map[string]sobek.Value, 2)
	}
	g.made[k] = val
	return true
}

func (g *grpcResponse) Has(k string) bool {
	_, ok := g.made[k]
	return ok || slices.Contains(grpcResponseKeys, k)
}

func (g *grpcResponse) Delete(k string) bool { delete(g.made, k); return true }

func (g *grpcResponse) Keys() []string {
	keys := append([]string(nil), grpcResponseKeys...)
	for k := range g.made {
		if !slices.Contains(grpcResponseKeys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// grpcError is k6's error object: {code, message, details}, or null.
func (v *VU) grpcError(st *status.Status) sobek.Value {
	if st == nil || st.Code() == codes.OK {
		return sobek.Null()
	}
	details := make([]any, 0, len(st.Details()))
	for _, d := range st.Details() {
		details = append(details, fmt.Sprint(d))
	}
	return v.object(map[string]any{"code": int(st.Code()), "message": st.Message(), "details": details})
}

func mdObject(md metadata.MD) map[string][]string {
	out := make(map[string][]string, len(md))
	for k, vs := range md {
		out[k] = vs
	}
	return out
}

// stringMap reads an object of strings (metadata, reflectMetadata).
func (v *VU) stringMap(x sobek.Value) map[string]string {
	o, ok := x.(*sobek.Object)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(o.Keys()))
	for _, k := range o.Keys() {
		out[k] = o.Get(k).String()
	}
	return out
}

// duration reads a duration param: "5s" or milliseconds.
func (v *VU) duration(what string, x sobek.Value) time.Duration {
	d, err := parseDurationValue(x.Export())
	if err != nil {
		v.throw("%s: %v", what, err)
	}
	return d
}

// resolve makes a path relative to the script's directory.
func (s *Script) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}
