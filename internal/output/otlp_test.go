package output

import (
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/surgeload/surge/internal/metrics"
)

// otlpReceiver is an OTLP/HTTP metrics receiver: it decodes each export
// as the collector does (protobuf ExportMetricsServiceRequest) and keeps
// them in order.
type otlpReceiver struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*colmetricspb.ExportMetricsServiceRequest
	path []string
	keys []string // X-Api-Key headers
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		r.t.Errorf("Content-Type %q", ct)
	}
	body, _ := io.ReadAll(req.Body)
	var m colmetricspb.ExportMetricsServiceRequest
	if err := proto.Unmarshal(body, &m); err != nil {
		r.t.Errorf("not an ExportMetricsServiceRequest: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, &m)
	r.path = append(r.path, req.URL.Path)
	r.keys = append(r.keys, req.Header.Get("X-Api-Key"))
	r.mu.Unlock()
	resp, _ := proto.Marshal(&colmetricspb.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

// last returns the last export's metrics by name, and the paths posted to.
func (r *otlpReceiver) last() (*colmetricspb.ExportMetricsServiceRequest, map[string]*metricspb.Metric, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		return nil, nil, r.path
	}
	req := r.reqs[len(r.reqs)-1]
	byName := map[string]*metricspb.Metric{}
	for _, rm := range req.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				byName[m.Name] = m
			}
		}
	}
	return req, byName, r.path
}

func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[kv.Key] = kv.Value.GetStringValue()
	}
	return out
}

// TestOTLPExport sends three ticks through the SDK's exporter to a
// receiver and checks the last export: resource, names, units, the
// counter's total, the rate split by condition, the histogram's exact
// count and sum and its buckets, attributes and times; and that the
// SDK's environment variables (headers) apply.
func TestOTLPExport(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cret")
	rcv := newOTLPReceiver(t)
	o, err := NewOTLP(rcv.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	reg := sampleRegistry(t, func(reg *metrics.Registry, now time.Time) {
		last = now
		if err := o.Tick(reg, now); err != nil {
			t.Fatal(err)
		}
	})
	if err := o.Close(nil); err != nil {
		t.Fatal(err)
	}
	req, ms, paths := rcv.last()
	if req == nil {
		t.Fatal("the receiver got nothing")
	}
	if paths[0] != "/v1/metrics" {
		t.Errorf("path %q, want the default /v1/metrics", paths[0])
	}
	rcv.mu.Lock()
	if rcv.keys[0] != "s3cret" {
		t.Errorf("X-Api-Key %q, want s3cret from OTEL_EXPORTER_OTLP_HEADERS", rcv.keys[0])
	}
	rcv.mu.Unlock()
	if res := attrMap(req.ResourceMetrics[0].Resource.Attributes); res["service.name"] != "surge" {
		t.Errorf("resource %v, want service.name=surge", res)
	}
	wantTags := map[string]string{"name": `/api/"items", all`, "status": "200"}
	start, end := uint64(reg.StartTime().UnixNano()), uint64(last.UnixNano())

	reqs := ms["surge_http_reqs"].GetSum()
	if reqs == nil || !reqs.IsMonotonic || reqs.AggregationTemporality != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
		t.Fatalf("surge_http_reqs %v, want a cumulative monotonic sum", ms["surge_http_reqs"])
	}
	p := reqs.DataPoints[0]
	if p.GetAsDouble() != 30 || p.StartTimeUnixNano != start || p.TimeUnixNano != end {
		t.Errorf("http_reqs %v from %d to %d, want 30 from %d to %d", p.GetAsDouble(), p.StartTimeUnixNano, p.TimeUnixNano, start, end)
	}
	if a := attrMap(p.Attributes); a["name"] != wantTags["name"] || a["status"] != "200" {
		t.Errorf("http_reqs attributes %v", a)
	}

	failed := map[string]int64{}
	for _, p := range ms["surge_http_req_failed"].GetSum().GetDataPoints() {
		failed[attrMap(p.Attributes)["condition"]] += p.GetAsInt()
	}
	if failed["nonzero"] != 3 || failed["zero"] != 27 {
		t.Errorf("http_req_failed by condition %v, want nonzero 3 and zero 27", failed)
	}

	if g := ms["surge_vus"].GetGauge(); g == nil || g.DataPoints[0].GetAsDouble() != 3 {
		t.Errorf("surge_vus %v, want a gauge at 3", ms["surge_vus"])
	}

	dur := ms["surge_http_req_duration"]
	if dur.GetUnit() != "ms" || dur.GetHistogram() == nil {
		t.Fatalf("surge_http_req_duration %v, want a histogram in ms", dur)
	}
	h := dur.GetHistogram().DataPoints[0]
	if h.Count != 30 || math.Abs(h.GetSum()-156) > 1e-9 || h.GetMin() != 0.7 || h.GetMax() != 9.7 {
		t.Errorf("histogram count %d sum %v min %v max %v, want 30, 156, 0.7, 9.7", h.Count, h.GetSum(), h.GetMin(), h.GetMax())
	}
	if len(h.ExplicitBounds) != len(DefaultBuckets) || len(h.BucketCounts) != len(DefaultBuckets)+1 {
		t.Fatalf("%d bounds and %d buckets", len(h.ExplicitBounds), len(h.BucketCounts))
	}
	var total uint64
	below := map[float64]uint64{}
	for i, c := range h.BucketCounts {
		total += c
		if i < len(h.ExplicitBounds) {
			below[h.ExplicitBounds[i]] = total
		}
	}
	// 0.7 … 9.7 ms three times: ≤1 ms: 3, ≤2.5: 6, ≤5: 15, ≤10: 30
	if total != 30 || below[1] != 3 || below[2.5] != 6 || below[5] != 15 || below[10] != 30 {
		t.Errorf("buckets %v (cumulative %v), want 3 at ≤1, 6 at ≤2.5, 15 at ≤5, 30 at ≤10", h.BucketCounts, below)
	}
	if a := attrMap(h.Attributes); a["name"] != wantTags["name"] {
		t.Errorf("histogram attributes %v", a)
	}
}

// TestOTLPEndpoint: a full URL with a path posts there, and an https
// endpoint speaks TLS.
func TestOTLPEndpoint(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are expected
	srv.StartTLS()
	defer srv.Close()
	o, err := NewOTLP(srv.URL + "/otlp/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	sampleRegistry(t, func(reg *metrics.Registry, now time.Time) { o.Tick(reg, now) })
	err = o.Close(nil)
	// The test server's certificate is not trusted: the TLS handshake is
	// the proof that https means TLS; a plain-text request would have
	// reached the handler.
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Close: %v, want a certificate error", err)
	}
	mu.Lock()
	if len(paths) != 0 {
		t.Errorf("requests reached the handler without TLS: %v", paths)
	}
	mu.Unlock()

	rcv := newOTLPReceiver(t)
	o, err = NewOTLP(rcv.srv.URL + "/otlp/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	sampleRegistry(t, func(reg *metrics.Registry, now time.Time) { o.Tick(reg, now) })
	if err := o.Close(nil); err != nil {
		t.Fatal(err)
	}
	if _, _, p := rcv.last(); len(p) == 0 || p[0] != "/otlp/v1/metrics" {
		t.Errorf("paths %v, want /otlp/v1/metrics", p)
	}
}

// TestOTLPUnreachable: an endpoint with nothing listening costs one line
// at Close, and every tick returns at once.
func TestOTLPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	o, err := NewOTLP(gone)
	if err != nil {
		t.Fatal(err)
	}
	sampleRegistry(t, func(reg *metrics.Registry, now time.Time) {
		if err := o.Tick(reg, now); err != nil {
			t.Errorf("tick: %v, want failures kept for Close", err)
		}
	})
	err = o.Close(nil)
	if err == nil || !strings.HasPrefix(err.Error(), "otlp output: ") || !strings.Contains(err.Error(), "pushes failed, the first: ") ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Close: %v, want one line counting refused pushes", err)
	}
}

// TestOTLPReset: after the statistics are reset, the cumulative points
// start at the tick before the reset, so a backend sees a new series and
// not a counter that went down.
func TestOTLPReset(t *testing.T) {
	rcv := newOTLPReceiver(t)
	o, err := NewOTLP(rcv.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	start := time.Unix(1800000000, 0)
	reg.Start(start, 0)
	export := func(n int, now time.Time) {
		for i := 0; i < n; i++ {
			reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
		}
		reg.Tick(now)
		o.Tick(reg, now)
	}
	export(5, start.Add(time.Second))
	export(5, start.Add(2*time.Second))
	reg.Reset(start.Add(2500 * time.Millisecond))
	export(2, start.Add(3*time.Second))
	if err := o.Close(nil); err != nil {
		t.Fatal(err)
	}
	_, ms, _ := rcv.last()
	p := ms["surge_http_reqs"].GetSum().GetDataPoints()[0]
	if p.GetAsDouble() != 2 || p.StartTimeUnixNano != uint64(start.Add(2*time.Second).UnixNano()) {
		t.Errorf("after the reset: %v since %v, want 2 since the tick before the reset (%v)",
			p.GetAsDouble(), time.Unix(0, int64(p.StartTimeUnixNano)), start.Add(2*time.Second))
	}
}
