package httpvu

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/vu"
)

func newState() *vu.State {
	reg := metrics.NewRegistry()
	return vu.New(reg, 1, 0, "default", reg.Intern(metrics.Tag{Key: "scenario", Value: "default"}))
}

func TestRecordTagsAndFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	st := newState()
	c := New(st, httpc.DefaultConfig())
	var resp httpc.Response
	for i := 0; i < 3; i++ {
		c.Do(context.Background(), &httpc.Request{URL: srv.URL + "/ok"}, &resp, Params{Name: "ok"})
	}
	c.Do(context.Background(), &httpc.Request{URL: srv.URL + "/missing"}, &resp, Params{Name: "missing"})
	reg := st.Registry
	reg.Tick(time.Now())
	b := reg.Builtin
	if n := reg.Total(b.HTTPReqs).Sum; n != 4 {
		t.Errorf("http_reqs %v, want 4", n)
	}
	if f := reg.Total(b.HTTPReqFailed); f.Nonzero != 1 || f.Count != 4 {
		t.Errorf("http_req_failed %d of %d, want 1 of 4", f.Nonzero, f.Count)
	}
	if n := reg.Total(b.HTTPReqDuration, metrics.Tag{Key: "name", Value: "ok"}, metrics.Tag{Key: "status", Value: "200"}, metrics.Tag{Key: "expected_response", Value: "true"}).Count; n != 3 {
		t.Errorf("ok requests with status 200 %d, want 3", n)
	}
	if n := reg.Total(b.HTTPReqDuration, metrics.Tag{Key: "name", Value: "missing"}, metrics.Tag{Key: "status", Value: "404"}, metrics.Tag{Key: "expected_response", Value: "false"}).Count; n != 1 {
		t.Errorf("missing requests with status 404 %d, want 1", n)
	}
}

// TestFirstRequestMeasuredFromDue: an open-model iteration that started
// 200 ms after it was due reports its first request 200 ms longer, and the
// second request of the iteration is measured normally.
func TestFirstRequestMeasuredFromDue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	st := newState()
	c := New(st, httpc.DefaultConfig())
	var resp httpc.Response
	st.BeginIteration(time.Now().Add(-200*time.Millisecond), time.Time{})
	c.Do(context.Background(), &httpc.Request{URL: srv.URL}, &resp, Params{Name: "first"})
	c.Do(context.Background(), &httpc.Request{URL: srv.URL}, &resp, Params{Name: "second"})
	st.Registry.Tick(time.Now())
	b := st.Registry.Builtin
	first := st.Registry.Total(b.HTTPReqDuration, metrics.Tag{Key: "name", Value: "first"})
	second := st.Registry.Total(b.HTTPReqDuration, metrics.Tag{Key: "name", Value: "second"})
	if first.Max < 200 || first.Max > 400 {
		t.Errorf("first request %.1f ms, want 200 ms of lag plus the request", first.Max)
	}
	if second.Max > 100 {
		t.Errorf("second request %.1f ms: the lag must count once per iteration", second.Max)
	}
	if bl := st.Registry.Total(b.HTTPReqBlocked, metrics.Tag{Key: "name", Value: "first"}); bl.Max < 200 {
		t.Errorf("blocked %.1f ms, want the lag in http_req_blocked", bl.Max)
	}
}

// BenchmarkRecord is the cost surge adds per request on top of the client:
// tags, sinks and eleven samples.
func BenchmarkRecord(b *testing.B) {
	st := newState()
	c := New(st, httpc.DefaultConfig())
	req := &httpc.Request{URL: "http://127.0.0.1:8000/api/items"}
	resp := &httpc.Response{Status: 200, Proto: "HTTP/1.1", Timings: httpc.Timings{Duration: 120 * time.Microsecond, Waiting: 100 * time.Microsecond}}
	start := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Record(req, resp, Params{Name: "items"}, start)
	}
}
