package js

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/protocol/httpvu"
)

// httpConfig is the client configuration with the script's options.
func (s *Script) httpConfig() httpc.Config {
	c := s.cfg.HTTP
	if c.Timeout == 0 {
		c = httpc.DefaultConfig()
	}
	o := s.Options
	if o.DiscardResponseBodies {
		c.DiscardBody = true
	}
	if o.InsecureSkipTLSVerify {
		c.TLS = insecureTLS()
	}
	if o.UserAgent != "" {
		c.UserAgent = o.UserAgent
	}
	return c
}

// statusSet is what http.expectedStatuses returns.
type statusSet struct{ fn func(int) bool }

// httpModule is k6/http.
func (v *VU) httpModule() *sobek.Object {
	// native signatures: no reflection on the hot path (and shallower
	// goroutine stacks per VU)
	withBody := func(method string) func(call sobek.FunctionCall) sobek.Value {
		return func(call sobek.FunctionCall) sobek.Value {
			params := call.Argument(2)
			return v.request(method, call.Argument(0).String(), call.Argument(1), params, "", v.parseParams(params))
		}
	}
	noBody := func(method string) func(call sobek.FunctionCall) sobek.Value {
		return func(call sobek.FunctionCall) sobek.Value {
			params := call.Argument(1)
			return v.request(method, call.Argument(0).String(), nil, params, "", v.parseParams(params))
		}
	}
	return v.lazy(map[string]any{
		"get":     noBody("GET"),
		"head":    noBody("HEAD"),
		"post":    withBody("POST"),
		"put":     withBody("PUT"),
		"patch":   withBody("PATCH"),
		"del":     withBody("DELETE"),
		"options": withBody("OPTIONS"),
		"request": func(method, url string, body, params sobek.Value) sobek.Value {
			return v.request(strings.ToUpper(method), url, body, params, "", v.parseParams(params))
		},
		"batch":     v.batch,
		"cookieJar": v.cookieJar,
		"expectedStatuses": func(call sobek.FunctionCall) sobek.Value {
			return v.rt.ToValue(v.expectedStatuses(call.Arguments))
		},
		"setResponseCallback": func(cb sobek.Value) {
			expected := func(int) bool { return true }
			if ss, ok := cb.Export().(*statusSet); ok {
				expected = ss.fn
			}
			// the client caches sinks by expectation: start a fresh one
			c := httpvu.New(v.st, v.s.httpConfig())
			c.Expected, c.Group = expected, v.http.Group
			v.http = c
		},
	})
}

func (v *VU) expectedStatuses(args []sobek.Value) *statusSet {
	type rng struct{ lo, hi int }
	var rs []rng
	for _, a := range args {
		if o, ok := a.(*sobek.Object); ok {
			rs = append(rs, rng{int(o.Get("min").ToInteger()), int(o.Get("max").ToInteger())})
			continue
		}
		n := int(a.ToInteger())
		rs = append(rs, rng{n, n})
	}
	return &statusSet{fn: func(st int) bool {
		for _, r := range rs {
			if st >= r.lo && st <= r.hi {
				return true
			}
		}
		return false
	}}
}

// reqParams are the parsed k6 request params.
type reqParams struct {
	header       http.Header
	name         string
	tags         []metrics.Tag
	timeout      time.Duration
	responseType string
	expected     func(int) bool
}

func (v *VU) parseParams(params sobek.Value) reqParams {
	if params == nil || sobek.IsUndefined(params) || sobek.IsNull(params) {
		return reqParams{}
	}
	p := reqParams{header: http.Header{}}
	o := params.ToObject(v.rt)
	if h := o.Get("headers"); h != nil && !sobek.IsUndefined(h) && !sobek.IsNull(h) {
		ho := h.ToObject(v.rt)
		for _, k := range ho.Keys() {
			p.header.Set(k, ho.Get(k).String())
		}
	}
	if c := o.Get("cookies"); c != nil && !sobek.IsUndefined(c) && !sobek.IsNull(c) {
		co := c.ToObject(v.rt)
		var parts []string
		keys := co.Keys()
		sort.Strings(keys)
		for _, k := range keys {
			val := co.Get(k)
			if vo, ok := val.(*sobek.Object); ok {
				val = vo.Get("value")
			}
			parts = append(parts, k+"="+val.String())
		}
		if len(parts) > 0 {
			p.header.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	for _, t := range v.tagsOf(o.Get("tags")) {
		if t.Key == "name" {
			p.name = t.Value
			continue
		}
		p.tags = append(p.tags, t)
	}
	if n := o.Get("name"); n != nil && !sobek.IsUndefined(n) {
		p.name = n.String()
	}
	if t := o.Get("timeout"); t != nil && !sobek.IsUndefined(t) {
		if d, err := parseDurationValue(t.Export()); err == nil {
			p.timeout = d
		}
	}
	if rt := o.Get("responseType"); rt != nil && !sobek.IsUndefined(rt) {
		p.responseType = rt.String()
	}
	if cb := o.Get("responseCallback"); cb != nil && !sobek.IsUndefined(cb) {
		if ss, ok := cb.Export().(*statusSet); ok {
			p.expected = ss.fn
		} else if sobek.IsNull(cb) {
			p.expected = func(int) bool { return true }
		}
	}
	return p
}

// requestBody encodes a body argument: a string, an ArrayBuffer, or an
// object sent as a form (k6's rule).
func (v *VU) requestBody(body sobek.Value, h http.Header) []byte {
	if body == nil || sobek.IsUndefined(body) || sobek.IsNull(body) {
		return nil
	}
	if o, ok := body.(*sobek.Object); ok {
		if ab, ok := o.Export().(sobek.ArrayBuffer); ok {
			return ab.Bytes()
		}
		form := url.Values{}
		for _, k := range o.Keys() {
			form.Set(k, o.Get(k).String())
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return []byte(form.Encode())
	}
	return []byte(body.String())
}

// request sends one request and returns the k6 Response object.
func (v *VU) request(method, rawURL string, body, params sobek.Value, host string, p reqParams) sobek.Value {
	if v.inInit {
		v.throw("making HTTP requests in the init context is not supported; use setup()")
	}
	req, resp, hp := v.prepare(method, rawURL, body, p, host)
	err := v.http.Do(v.ctx, req, resp, hp)
	if err != nil && v.ctx.Err() != nil {
		v.rt.Interrupt(errStopped)
	}
	return v.response(req, resp, p, err)
}

func (v *VU) prepare(method, rawURL string, body sobek.Value, p reqParams, host string) (*httpc.Request, *httpc.Response, httpvu.Params) {
	if host != "" && strings.HasPrefix(rawURL, "/") {
		rawURL = host + rawURL
	}
	if p.header == nil && body != nil && !sobek.IsUndefined(body) && !sobek.IsNull(body) {
		p.header = http.Header{}
	}
	b := v.requestBody(body, p.header)
	var req *httpc.Request
	if len(b) == 0 && len(p.header) == 0 && p.timeout == 0 {
		req = v.cachedRequest(method, rawURL)
	} else {
		req = &httpc.Request{Method: method, URL: rawURL, Header: p.header, Body: b, Timeout: p.timeout}
	}
	hp := httpvu.Params{Name: p.name, Expected: p.expected}
	if len(p.tags) > 0 {
		hp.Tags = v.st.Registry.Intern(p.tags...)
	}
	return req, &httpc.Response{}, hp
}

// response builds the k6 Response object. Its fields are made when the
// script reads them: a script that only looks at status never copies the
// body or parses the headers.
func (v *VU) response(req *httpc.Request, resp *httpc.Response, p reqParams, err error) *sobek.Object {
	return v.rt.NewDynamicObject(&jsResponse{v: v, req: req, resp: resp, respType: p.responseType, err: err})
}

// jsResponse is a k6 Response.
type jsResponse struct {
	v        *VU
	req      *httpc.Request
	resp     *httpc.Response
	respType string
	err      error
	made     map[string]sobek.Value // fields made, and fields set by the script
}

var responseKeys = []string{"status", "proto", "url", "body", "headers", "timings", "error", "error_code", "request", "json"}

func (r *jsResponse) Get(k string) sobek.Value {
	if x, ok := r.made[k]; ok {
		return x
	}
	x := r.make(k)
	if x == nil {
		return nil
	}
	switch k {
	case "status", "error_code":
	default: // objects and strings keep their identity
		if r.made == nil {
			r.made = make(map[string]sobek.Value, 4)
		}
		r.made[k] = x
	}
	return x
}

func (r *jsResponse) make(k string) sobek.Value {
	v, rt, resp := r.v, r.v.rt, r.resp
	switch k {
	case "status":
		return rt.ToValue(resp.Status)
	case "proto":
		return rt.ToValue(resp.Proto)
	case "url":
		if resp.URL != "" {
			return rt.ToValue(resp.URL)
		}
		return rt.ToValue(r.req.URL)
	case "body":
		switch {
		case r.respType == "none" || v.s.Options.DiscardResponseBodies && r.respType == "":
			return sobek.Null()
		case r.respType == "binary":
			return rt.ToValue(rt.NewArrayBuffer(resp.Body))
		}
		return rt.ToValue(string(resp.Body))
	case "headers":
		hdr := rt.NewObject()
		if resp.Status != 0 {
			for name, vs := range resp.Header() {
				_ = hdr.Set(name, strings.Join(vs, ", "))
			}
		}
		return hdr
	case "timings":
		tm := resp.Timings
		return v.object(map[string]any{
			"duration": ms(tm.Duration), "blocked": ms(tm.Blocked), "connecting": ms(tm.Connecting),
			"tls_handshaking": ms(tm.TLSHandshaking), "sending": ms(tm.Sending),
			"waiting": ms(tm.Waiting), "receiving": ms(tm.Receiving),
		})
	case "error":
		if r.err != nil {
			return rt.ToValue(r.err.Error())
		}
		return rt.ToValue("")
	case "error_code":
		if r.err != nil || resp.Status >= 400 {
			return rt.ToValue(resp.ErrorCode)
		}
		return rt.ToValue(0)
	case "request":
		return v.object(map[string]any{"method": r.req.Method, "url": r.req.URL, "body": string(r.req.Body)})
	case "json":
		return v.responseProto().Get("json")
	}
	return nil
}

func (r *jsResponse) Set(k string, val sobek.Value) bool {
	if r.made == nil {
		r.made = map[string]sobek.Value{}
	}
	r.made[k] = val
	return true
}

func (r *jsResponse) Has(k string) bool {
	_, ok := r.made[k]
	return ok || slices.Contains(responseKeys, k)
}

func (r *jsResponse) Delete(k string) bool { delete(r.made, k); return true }

func (r *jsResponse) Keys() []string {
	keys := append([]string(nil), responseKeys...)
	for k := range r.made {
		if !slices.Contains(responseKeys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// responseProto holds the Response methods, shared by a VU's responses.
func (v *VU) responseProto() *sobek.Object {
	if v.respProto != nil {
		return v.respProto
	}
	rt := v.rt
	p := rt.NewObject()
	_ = p.Set("json", func(call sobek.FunctionCall) sobek.Value {
		body := call.This.ToObject(rt).Get("body")
		if body == nil || sobek.IsNull(body) || sobek.IsUndefined(body) {
			v.throw("the response has no body (discardResponseBodies or responseType none)")
		}
		parse, _ := sobek.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
		r, err := parse(sobek.Undefined(), body)
		if err != nil {
			panic(err)
		}
		if sel := call.Argument(0); !sobek.IsUndefined(sel) {
			for _, k := range strings.Split(sel.String(), ".") {
				if sobek.IsUndefined(r) || sobek.IsNull(r) {
					break
				}
				r = r.ToObject(rt).Get(k)
				if r == nil {
					r = sobek.Undefined()
				}
			}
		}
		return r
	})
	v.respProto = p
	return p
}

// batch sends requests in parallel, as k6 does: at most options.batch at
// once (default 20) and options.batchPerHost to one host (default 6), each
// on its own connection. Arguments are read and responses made on the VU's
// goroutine; only the HTTP exchanges run on others. Metrics are recorded
// in the order of the argument once all have ended, and the responses come
// back as an array, or an object keyed like the argument.
func (v *VU) batch(reqs sobek.Value) sobek.Value {
	if v.inInit {
		v.throw("making HTTP requests in the init context is not supported; use setup()")
	}
	o := reqs.ToObject(v.rt)
	var keys []string
	if o.ClassName() == "Array" {
		n := int(o.Get("length").ToInteger())
		for i := 0; i < n; i++ {
			keys = append(keys, strconv.Itoa(i))
		}
	} else {
		keys = o.Keys()
	}
	items := make([]batchItem, len(keys))
	for i, k := range keys {
		items[i] = v.batchItem(o.Get(k))
	}
	v.sendBatch(items)
	if v.ctx.Err() != nil {
		v.rt.Interrupt(errStopped)
	}
	out := make([]any, len(items))
	for i := range items {
		it := &items[i]
		if !(it.err != nil && v.ctx.Err() != nil) {
			v.http.Record(it.req, it.resp, it.hp, it.resp.Start)
		}
		out[i] = v.response(it.req, it.resp, it.p, it.err)
	}
	if o.ClassName() == "Array" {
		return v.rt.NewArray(out...)
	}
	res := v.rt.NewObject()
	for i, k := range keys {
		_ = res.Set(k, out[i])
	}
	return res
}

// batchItem is one request of an http.batch call.
type batchItem struct {
	req  *httpc.Request
	resp *httpc.Response
	hp   httpvu.Params
	p    reqParams
	host string // connection pool key: scheme and authority
	err  error
}

// batchItem reads one element of http.batch's argument: a URL string, an
// array [method, url, body, params], or an object {method, url, body,
// params}.
func (v *VU) batchItem(x sobek.Value) batchItem {
	method, rawURL := "GET", ""
	var body, params sobek.Value
	switch xo, _ := x.(*sobek.Object); {
	case x == nil || sobek.IsUndefined(x) || sobek.IsNull(x):
		v.throw("http.batch: a request is %v", x)
	case xo == nil || xo.ClassName() == "String":
		rawURL = x.String()
	case xo.ClassName() == "Array":
		method, rawURL = strings.ToUpper(xo.Get("0").String()), xo.Get("1").String()
		body, params = xo.Get("2"), xo.Get("3")
	default:
		if mv := xo.Get("method"); mv != nil && !sobek.IsUndefined(mv) {
			method = strings.ToUpper(mv.String())
		}
		u := xo.Get("url")
		if u == nil || sobek.IsUndefined(u) {
			v.throw("http.batch: request %s has no url", x.String())
		}
		rawURL, body, params = u.String(), xo.Get("body"), xo.Get("params")
	}
	p := v.parseParams(params)
	req, resp, hp := v.prepare(method, rawURL, body, p, "")
	it := batchItem{req: req, resp: resp, hp: hp, p: p, host: rawURL}
	if u, err := url.Parse(rawURL); err == nil {
		it.host = u.Scheme + "://" + u.Host
	}
	return it
}

// sendBatch runs the items' exchanges in parallel within the batch limits.
func (v *VU) sendBatch(items []batchItem) {
	limit, perHost := 20, 6
	if b := v.s.Options.Batch; b != nil {
		limit = *b
	}
	if b := v.s.Options.BatchPerHost; b != nil {
		perHost = *b
	}
	if limit <= 0 || limit > len(items) {
		limit = len(items)
	}
	all := make(chan struct{}, max(limit, 1))
	hosts := map[string]chan struct{}{}
	var wg sync.WaitGroup
	for i := range items {
		it := &items[i]
		var host chan struct{}
		if perHost > 0 {
			if host = hosts[it.host]; host == nil {
				host = make(chan struct{}, perHost)
				hosts[it.host] = host
			}
		}
		all <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if host != nil {
				host <- struct{}{}
				defer func() { <-host }()
			}
			defer func() { <-all }()
			it.err = v.http.HTTP.Do(v.ctx, it.req, it.resp)
		}()
	}
	wg.Wait()
}

// maxCachedRequests bounds a VU's cache of plain requests.
const maxCachedRequests = 64

// cachedRequest returns a prepared request without headers or body for
// method and URL: the request line is parsed and serialized once per VU,
// not once per call.
func (v *VU) cachedRequest(method, rawURL string) *httpc.Request {
	k := method + " " + rawURL
	if r, ok := v.reqCache[k]; ok {
		return r
	}
	r := &httpc.Request{Method: method, URL: rawURL, Header: http.Header{}}
	if v.reqCache == nil {
		v.reqCache = map[string]*httpc.Request{}
	}
	if len(v.reqCache) < maxCachedRequests {
		v.reqCache[k] = r
	}
	return r
}

// cookieJar is http.cookieJar(): the VU's jar, which every request uses.
func (v *VU) cookieJar() *sobek.Object {
	parse := func(raw string) *url.URL {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			v.throw("cookieJar: bad URL %q", raw)
		}
		return u
	}
	return v.object(map[string]any{
		"set": func(raw, name, value string, opts sobek.Value) {
			c := &http.Cookie{Name: name, Value: value}
			if o, ok := opts.(*sobek.Object); ok {
				c.Domain, c.Path = getString(o, "domain", ""), getString(o, "path", "")
				c.Secure = o.Get("secure") != nil && o.Get("secure").ToBoolean()
				c.HttpOnly = o.Get("http_only") != nil && o.Get("http_only").ToBoolean()
				if ma := o.Get("max_age"); ma != nil && !sobek.IsUndefined(ma) {
					c.MaxAge = int(ma.ToInteger())
				}
			}
			v.http.HTTP.SetCookies(parse(raw), []*http.Cookie{c})
		},
		"cookiesForURL": func(raw string) map[string][]string {
			out := map[string][]string{}
			if jar := v.http.HTTP.Jar(); jar != nil {
				for _, c := range jar.Cookies(parse(raw)) {
					out[c.Name] = append(out[c.Name], c.Value)
				}
			}
			return out
		},
	})
}
