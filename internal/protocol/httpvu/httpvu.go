// Package httpvu is HTTP for virtual users: it sends requests with an
// httpc.Client and records k6's http_* metrics into the VU's shard, with
// k6's tags (method, status, name, proto, scenario, group,
// expected_response, error_code).
//
// Each distinct tag combination is interned and its eleven sinks looked up
// once per Client; after that a request costs one map lookup on a struct key
// and one shard lock, and allocates nothing.
//
// For open-model iterations, the first request of an iteration measures its
// duration from the iteration's due time (vu.State.TakeDue): the time spent
// waiting for a free VU is added to http_req_duration and
// http_req_blocked, as wrk2 does, so a server stall is not hidden by the
// load generator backing off (coordinated omission).
package httpvu

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/vu"
)

// Client is one VU's HTTP client.
type Client struct {
	HTTP  *httpc.Client
	st    *vu.State
	cache map[tagKey]*sinks
	// lastKey and lastSinks short-cut the cache for a repeated request.
	lastKey   tagKey
	lastSinks *sinks
	// Expected says which statuses are not failures (k6's
	// expectedStatuses); nil means 200–399.
	Expected func(status int) bool
	// Group is the current k6 group path ("::login"), tagged on samples.
	Group string
}

type tagKey struct {
	name, method, proto, group string
	status, code               int
	extra                      *metrics.TagSet
}

type sinks struct {
	reqs, failed, dur, blocked, connecting, tls, sending, waiting, receiving, sent, recv *metrics.Agg
	expected                                                                             bool
}

// New returns a VU's client over an httpc.Client configured with cfg.
func New(st *vu.State, cfg httpc.Config) *Client {
	return &Client{HTTP: httpc.New(cfg), st: st, cache: map[tagKey]*sinks{}}
}

// Params are per-request options that do not change the bytes sent.
type Params struct {
	Name string          // groups URLs in results (Locust's name=, k6's tags.name); default the URL
	Tags *metrics.TagSet // extra tags, interned by the caller
	// Expected overrides the client's expected statuses for this request.
	Expected func(status int) bool
}

// Do sends req, fills resp and records the metrics. A network error is
// recorded as a failed request and returned; the VU goes on.
func (c *Client) Do(ctx context.Context, req *httpc.Request, resp *httpc.Response, p Params) error {
	return c.DoAt(ctx, req, resp, p, time.Time{})
}

// DoAt is Do for a request that began at start (zero: now), as
// httpc.Client.DoAt.
func (c *Client) DoAt(ctx context.Context, req *httpc.Request, resp *httpc.Response, p Params, start time.Time) error {
	err := c.HTTP.DoAt(ctx, req, resp, start)
	if ctx.Err() != nil && err != nil {
		return err // cut off by a stop: not a sample
	}
	c.Record(req, resp, p, resp.Start)
	return err
}

// Record records the metrics of a finished request that started at start.
func (c *Client) Record(req *httpc.Request, resp *httpc.Response, p Params, start time.Time) {
	tm := resp.Timings
	if due, ok := c.st.TakeDue(); ok && due.Before(start) {
		lag := start.Sub(due)
		tm.Duration += lag
		tm.Blocked += lag
	}
	name := p.Name
	if name == "" {
		name = req.URL
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	k := tagKey{name: name, method: method, proto: resp.Proto, group: c.Group, status: resp.Status, extra: p.Tags}
	k.code = resp.ErrorCode // network errors, and 1000+status for 4xx/5xx as k6

	s := c.lastSinks
	if s == nil || k != c.lastKey { // a VU mostly repeats its last request: skip hashing the key
		s = c.cache[k]
		if s == nil {
			s = c.sinksFor(k, p.Expected)
			c.cache[k] = s
		}
		c.lastKey, c.lastSinks = k, s
	}
	failed := 0.0
	if !s.expected {
		failed = 1
	}
	sh := c.st.Shard
	sh.Lock()
	s.reqs.Add(1)
	s.failed.Add(failed)
	s.dur.Add(ms(tm.Duration))
	s.blocked.Add(ms(tm.Blocked))
	s.connecting.Add(ms(tm.Connecting))
	s.tls.Add(ms(tm.TLSHandshaking))
	s.sending.Add(ms(tm.Sending))
	s.waiting.Add(ms(tm.Waiting))
	s.receiving.Add(ms(tm.Receiving))
	s.sent.Add(float64(resp.BytesSent))
	s.recv.Add(float64(resp.BytesReceived))
	sh.Unlock()
	if resp.Err != nil {
		op := method + " " + name
		msg := strings.TrimPrefix(resp.Err.Error(), method+" "+req.URL+": ")
		c.st.Registry.Errors.Add("request", msg, op)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// DefaultExpected is k6's default: 200–399 are expected responses.
func DefaultExpected(status int) bool { return status >= 200 && status < 400 }

func (c *Client) sinksFor(k tagKey, expected func(int) bool) *sinks {
	if expected == nil {
		expected = c.Expected
	}
	if expected == nil {
		expected = DefaultExpected
	}
	ok := k.status != 0 && expected(k.status)
	reg := c.st.Registry
	tags := append([]metrics.Tag{}, c.st.Tags.Tags()...)
	tags = append(tags, k.extra.Tags()...)
	tags = append(tags,
		metrics.Tag{Key: "name", Value: k.name},
		metrics.Tag{Key: "method", Value: k.method},
		metrics.Tag{Key: "status", Value: strconv.Itoa(k.status)},
		metrics.Tag{Key: "proto", Value: k.proto},
		metrics.Tag{Key: "group", Value: k.group},
		metrics.Tag{Key: "expected_response", Value: strconv.FormatBool(ok)},
	)
	if k.code != 0 {
		tags = append(tags, metrics.Tag{Key: "error_code", Value: strconv.Itoa(k.code)})
	}
	ts := reg.Intern(tags...)
	b := reg.Builtin
	sh := c.st.Shard
	return &sinks{
		expected: ok,
		reqs:     sh.Sink(b.HTTPReqs, ts), failed: sh.Sink(b.HTTPReqFailed, ts),
		dur: sh.Sink(b.HTTPReqDuration, ts), blocked: sh.Sink(b.HTTPReqBlocked, ts),
		connecting: sh.Sink(b.HTTPReqConnecting, ts), tls: sh.Sink(b.HTTPReqTLS, ts),
		sending: sh.Sink(b.HTTPReqSending, ts), waiting: sh.Sink(b.HTTPReqWaiting, ts),
		receiving: sh.Sink(b.HTTPReqRecv, ts),
		sent:      sh.Sink(b.DataSent, ts), recv: sh.Sink(b.DataReceived, ts),
	}
}

// FixedVU sends one prepared request per iteration: the VU of a quick
// `surge run --url` test.
type FixedVU struct {
	c    *Client
	req  *httpc.Request
	resp httpc.Response
	p    Params
}

// NewFixedVU returns a VU that sends req each iteration, grouped as name.
func NewFixedVU(st *vu.State, cfg httpc.Config, req *httpc.Request, name string) *FixedVU {
	return &FixedVU{c: New(st, cfg), req: req, p: Params{Name: name}}
}

// RunIteration sends the request. Failed requests are samples, not errors
// of the iteration. The request is the whole iteration, so it starts when
// the iteration did, without another clock read.
func (v *FixedVU) RunIteration(ctx context.Context) error {
	v.c.DoAt(ctx, v.req, &v.resp, v.p, v.c.st.Started())
	return nil
}

// Close releases the VU's idle connections.
func (v *FixedVU) Close() { v.c.HTTP.CloseIdle() }
