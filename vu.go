package surge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/protocol/httpvu"
	"github.com/surgeload/surge/internal/vu"
)

// VU is one virtual user as a task sees it: HTTP requests that record k6's
// metrics, checks, custom metrics, sleeping, and a Data map that lives as
// long as the user (Locust's self.token).
type VU struct {
	st   *vu.State
	ctx  context.Context
	http *httpvu.Client
	host string
	resp httpc.Response
	// Data is the user's own storage, kept across iterations.
	Data map[string]any
}

func newVU(st *vu.State, host string) *VU {
	return &VU{st: st, http: httpvu.New(st, httpc.DefaultConfig()), host: strings.TrimRight(host, "/"), Data: map[string]any{}}
}

// ID is the VU's number in the run, from 1 (k6's __VU).
func (v *VU) ID() int { return v.st.ID }

// Iteration is the VU's current iteration, from 0 (k6's __ITER).
func (v *VU) Iteration() int64 { return v.st.Iteration }

// Scenario is the name of the VU's scenario.
func (v *VU) Scenario() string { return v.st.Scenario }

// Context is cancelled when the iteration must stop.
func (v *VU) Context() context.Context { return v.ctx }

// Sleep pauses the user; it returns early with the context's error when the
// test stops.
func (v *VU) Sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-v.ctx.Done():
		return v.ctx.Err()
	}
}

// Response is an HTTP response. Body is a copy the task may keep.
type Response struct {
	Status  int
	Proto   string
	URL     string
	Body    []byte
	Header  http.Header
	Timings httpc.Timings
	// Err is set for a request that got no response (refused, timeout …);
	// ErrorCode is k6's error code for it.
	Err       error
	ErrorCode int
}

// JSON decodes the body into out.
func (r *Response) JSON(out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("decoding %s response (status %d) as JSON: %w", r.URL, r.Status, err)
	}
	return nil
}

// Option changes one request.
type Option func(*reqOpts)

type reqOpts struct {
	header   http.Header
	name     string
	tags     []metrics.Tag
	expected func(int) bool
	timeout  time.Duration
}

// Header sets a request header.
func Header(key, value string) Option {
	return func(o *reqOpts) { o.header.Set(key, value) }
}

// Bearer sets "Authorization: Bearer token".
func Bearer(token string) Option { return Header("Authorization", "Bearer "+token) }

// Name groups requests in the results (Locust's name=, k6's tags.name).
func Name(name string) Option { return func(o *reqOpts) { o.name = name } }

// Tag adds a tag to the request's samples.
func Tag(key, value string) Option {
	return func(o *reqOpts) { o.tags = append(o.tags, metrics.Tag{Key: key, Value: value}) }
}

// Expect sets which statuses are not failures (k6's expectedStatuses).
func Expect(statuses ...int) Option {
	return func(o *reqOpts) {
		o.expected = func(s int) bool {
			for _, x := range statuses {
				if s == x {
					return true
				}
			}
			return false
		}
	}
}

// Timeout bounds the request.
func Timeout(d time.Duration) Option { return func(o *reqOpts) { o.timeout = d } }

// Get sends a GET request.
func (v *VU) Get(url string, opts ...Option) *Response { return v.Request("GET", url, nil, opts...) }

// Post sends a POST request with body.
func (v *VU) Post(url string, body []byte, opts ...Option) *Response {
	return v.Request("POST", url, body, opts...)
}

// PostJSON sends a POST request with body encoded as JSON.
func (v *VU) PostJSON(url string, body any, opts ...Option) *Response {
	b, err := json.Marshal(body)
	if err != nil {
		return &Response{URL: url, Err: fmt.Errorf("encoding request body: %w", err)}
	}
	return v.Request("POST", url, b, append([]Option{Header("Content-Type", "application/json")}, opts...)...)
}

// Request sends any request and records http_* metrics. A request that
// fails on the network returns a Response with Err set; the metrics count it
// as failed.
func (v *VU) Request(method, url string, body []byte, opts ...Option) *Response {
	o := reqOpts{header: http.Header{}}
	for _, f := range opts {
		f(&o)
	}
	if strings.HasPrefix(url, "/") {
		url = v.host + url
	}
	req := &httpc.Request{Method: method, URL: url, Header: o.header, Body: body, Timeout: o.timeout}
	p := httpvu.Params{Name: o.name, Expected: o.expected}
	if len(o.tags) > 0 {
		p.Tags = v.st.Registry.Intern(o.tags...)
	}
	ctx := v.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	err := v.http.Do(ctx, req, &v.resp, p)
	r := &Response{Status: v.resp.Status, Proto: v.resp.Proto, URL: v.resp.URL, Body: append([]byte(nil), v.resp.Body...),
		Timings: v.resp.Timings, Err: err, ErrorCode: v.resp.ErrorCode}
	if r.URL == "" {
		r.URL = url
	}
	if v.resp.Status != 0 {
		r.Header = v.resp.Header()
	}
	return r
}

// Check records a named check in the checks metric and returns ok, as k6's
// check() does for one condition.
func (v *VU) Check(name string, ok bool) bool {
	tags := v.st.Registry.With(v.st.Tags, metrics.Tag{Key: "check", Value: name}, metrics.Tag{Key: "group", Value: v.http.Group})
	val := 0.0
	if ok {
		val = 1
	}
	v.st.Shard.Add(v.st.Registry.Builtin.Checks, tags, val)
	return ok
}

// Metric is a custom metric, declared once and recorded from any VU.
type Metric struct {
	name string
	typ  metrics.Type
	vt   metrics.ValueType
}

// NewCounter, NewGauge, NewRate and NewTrend declare custom metrics (k6's
// Counter, Gauge, Rate, Trend). A time trend's values are milliseconds.
func NewCounter(name string) *Metric { return &Metric{name, metrics.Counter, metrics.Default} }
func NewGauge(name string) *Metric   { return &Metric{name, metrics.Gauge, metrics.Default} }
func NewRate(name string) *Metric    { return &Metric{name, metrics.Rate, metrics.Default} }
func NewTrend(name string, isTime bool) *Metric {
	vt := metrics.Default
	if isTime {
		vt = metrics.Time
	}
	return &Metric{name, metrics.Trend, vt}
}

// Add records value for m, with optional "key", "value" tag pairs.
func (v *VU) Add(m *Metric, value float64, tagPairs ...string) error {
	mm, err := v.st.Registry.New(m.name, m.typ, m.vt)
	if err != nil {
		return err
	}
	tags := v.st.Tags
	if len(tagPairs) > 0 {
		extra := make([]metrics.Tag, 0, len(tagPairs)/2)
		for i := 0; i+1 < len(tagPairs); i += 2 {
			extra = append(extra, metrics.Tag{Key: tagPairs[i], Value: tagPairs[i+1]})
		}
		tags = v.st.Registry.With(tags, extra...)
	}
	v.st.Shard.Add(mm, tags, value)
	return nil
}
