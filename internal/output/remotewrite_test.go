package output

import (
	"bytes"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/surgeload/surge/internal/metrics"
)

// rwSeries is one decoded TimeSeries: its labels in wire order and its
// samples.
type rwSeries struct {
	labels  [][2]string
	samples []rwSample
}

type rwSample struct {
	value float64
	ts    int64
}

// key is the series' identity as Prometheus prints it, labels sorted.
func (s rwSeries) key() string {
	ls := append([][2]string(nil), s.labels...)
	sort.Slice(ls, func(i, j int) bool { return ls[i][0] < ls[j][0] })
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l[0] + "=" + l[1] + ";")
	}
	return b.String()
}

// wireFields decodes one protobuf message into its fields, generically:
// varints and fixed64s as uint64, length-delimited fields as bytes.
func wireFields(t *testing.T, b []byte) map[protowire.Number][]any {
	t.Helper()
	out := map[protowire.Number][]any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d has wire type %d, which a WriteRequest never uses", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		out[num] = append(out[num], v)
		b = b[n:]
	}
	return out
}

// decodeWriteRequest reads prometheus.WriteRequest from the wire.
func decodeWriteRequest(t *testing.T, body []byte) []rwSeries {
	t.Helper()
	var out []rwSeries
	for _, ts := range wireFields(t, body)[1] {
		f := wireFields(t, ts.([]byte))
		var s rwSeries
		for _, l := range f[1] {
			lf := wireFields(t, l.([]byte))
			if len(lf[1]) != 1 || len(lf[2]) != 1 {
				t.Fatalf("label with fields %v", lf)
			}
			s.labels = append(s.labels, [2]string{string(lf[1][0].([]byte)), string(lf[2][0].([]byte))})
		}
		for _, sm := range f[2] {
			sf := wireFields(t, sm.([]byte))
			s.samples = append(s.samples, rwSample{math.Float64frombits(sf[1][0].(uint64)), int64(sf[2][0].(uint64))})
		}
		out = append(out, s)
	}
	return out
}

// rwReceiver is a remote-write receiver: it checks the headers, decodes
// each push and keeps them in order.
type rwReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	pushes [][]rwSeries
	paths  []string
	delay  time.Duration
}

func newRWReceiver(t *testing.T) *rwReceiver {
	r := &rwReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rwReceiver) serve(w http.ResponseWriter, req *http.Request) {
	time.Sleep(r.delay)
	for h, want := range map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"} {
		if got := req.Header.Get(h); got != want {
			r.t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	comp, _ := io.ReadAll(req.Body)
	body, err := snappy.Decode(nil, comp)
	if err != nil {
		r.t.Errorf("body is not snappy block format: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	series := decodeWriteRequest(r.t, body)
	r.mu.Lock()
	r.pushes = append(r.pushes, series)
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *rwReceiver) got() ([][]rwSeries, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pushes, r.paths
}

// sampleRegistry records 3 seconds of a small HTTP test: 10 requests a
// second of 0.7, 1.7 … 9.7 ms (off the bucket bounds, which the HDR
// histogram places only within 1%), one in ten failed, and a vus gauge.
func sampleRegistry(t *testing.T, each func(reg *metrics.Registry, now time.Time)) *metrics.Registry {
	return sampleRegistryAt(t, time.Unix(1800000000, 0), each)
}

func sampleRegistryAt(t *testing.T, start time.Time, each func(reg *metrics.Registry, now time.Time)) *metrics.Registry {
	t.Helper()
	reg := metrics.NewRegistry()
	reg.Start(start, 0)
	b := reg.Builtin
	tags := reg.Intern(metrics.Tag{Key: "name", Value: `/api/"items", all`}, metrics.Tag{Key: "status", Value: "200"})
	for sec := 0; sec < 3; sec++ {
		for i := 1; i <= 10; i++ {
			reg.Shard(0).Add(b.HTTPReqs, tags, 1)
			reg.Shard(0).Add(b.HTTPReqDuration, tags, float64(i)-0.3)
			reg.Shard(0).Add(b.HTTPReqFailed, tags, float64(i/10))
		}
		now := start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		reg.Set(b.VUs, nil, float64(sec+1))
		reg.Tick(now)
		each(reg, now)
	}
	return reg
}

// TestRemoteWrite pushes three ticks to a receiver that decodes the
// protobuf independently of the encoder, and checks that the last push
// holds exactly the series and values of the /metrics page (read with
// Prometheus's parser), labels sorted, stamped with the tick's time.
func TestRemoteWrite(t *testing.T) {
	rcv := newRWReceiver(t)
	o, err := NewRemoteWrite(rcv.srv.URL)
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
	pushes, paths := rcv.got()
	if len(pushes) == 0 || len(pushes) > 3 {
		t.Fatalf("%d pushes, want 1 to 3 (one a tick, waiting ones replaced)", len(pushes))
	}
	if paths[0] != "/api/v1/write" {
		t.Errorf("pushed to %q, want the default /api/v1/write", paths[0])
	}
	got := map[string]rwSample{}
	for _, s := range pushes[len(pushes)-1] {
		if !sort.SliceIsSorted(s.labels, func(i, j int) bool { return s.labels[i][0] < s.labels[j][0] }) {
			t.Errorf("labels not sorted by name: %v", s.labels)
		}
		if s.labels[0][0] != "__name__" {
			t.Errorf("first label %q, want __name__", s.labels[0][0])
		}
		if len(s.samples) != 1 || s.samples[0].ts != last.UnixMilli() {
			t.Errorf("%v: samples %v, want one at %d", s.labels, s.samples, last.UnixMilli())
		}
		got[s.key()] = s.samples[0]
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(Exposition(reg)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, smp := range expfmtSamples(fams) {
		want[smp.key()] = smp.samples[0].value
	}
	if len(got) != len(want) {
		t.Errorf("%d series pushed, /metrics has %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g.value != v {
			t.Errorf("series %s: pushed %v (present %v), /metrics says %v", k, g.value, ok, v)
		}
	}
	reqs := `__name__=surge_http_reqs_total;name=/api/"items", all;status=200;`
	if got[reqs].value != 30 {
		t.Errorf("http_reqs %v, want 30", got[reqs].value)
	}
	if v := got[`__name__=surge_http_req_duration_bucket;le=+Inf;name=/api/"items", all;status=200;`].value; v != 30 {
		t.Errorf("+Inf bucket %v, want 30", v)
	}
	if v := got[`__name__=surge_http_req_failed_nonzero_total;name=/api/"items", all;status=200;`].value; v != 3 {
		t.Errorf("failed %v, want 3", v)
	}
}

// expfmtSamples flattens parsed metric families into series as remote
// write would carry them.
func expfmtSamples(fams map[string]*dto.MetricFamily) []rwSeries {
	var out []rwSeries
	for name, f := range fams {
		for _, m := range f.Metric {
			var base [][2]string
			for _, l := range m.Label {
				base = append(base, [2]string{l.GetName(), l.GetValue()})
			}
			one := func(n string, v float64, extra ...[2]string) {
				ls := append([][2]string{{"__name__", n}}, base...)
				out = append(out, rwSeries{labels: append(ls, extra...), samples: []rwSample{{value: v}}})
			}
			switch {
			case m.Counter != nil:
				one(name, m.Counter.GetValue())
			case m.Gauge != nil:
				one(name, m.Gauge.GetValue())
			case m.Histogram != nil:
				h := m.Histogram
				for _, b := range h.Bucket {
					one(name+"_bucket", float64(b.GetCumulativeCount()), [2]string{"le", num(b.GetUpperBound())})
				}
				one(name+"_bucket", float64(h.GetSampleCount()), [2]string{"le", "+Inf"})
				one(name+"_sum", h.GetSampleSum())
				one(name+"_count", float64(h.GetSampleCount()))
			}
		}
	}
	return out
}

// TestRemoteWriteSlowReceiver: a receiver slower than the ticks never
// holds a tick up; waiting snapshots are replaced, and the last one sent
// is the final total.
func TestRemoteWriteSlowReceiver(t *testing.T) {
	rcv := newRWReceiver(t)
	rcv.delay = 300 * time.Millisecond
	o, err := NewRemoteWrite(rcv.srv.URL + "/push")
	if err != nil {
		t.Fatal(err)
	}
	var slowest time.Duration
	sampleRegistry(t, func(reg *metrics.Registry, now time.Time) {
		t0 := time.Now()
		o.Tick(reg, now)
		slowest = max(slowest, time.Since(t0))
	})
	if slowest > 250*time.Millisecond {
		t.Errorf("a tick took %v behind a receiver that answers in 300ms", slowest)
	}
	if err := o.Close(nil); err != nil {
		t.Fatal(err)
	}
	pushes, paths := rcv.got()
	if len(pushes) < 1 || len(pushes) > 2 {
		t.Errorf("%d pushes, want 1 or 2 (one in flight, the rest replaced by the last)", len(pushes))
	}
	if paths[0] != "/push" {
		t.Errorf("path %q, want the URL's own /push", paths[0])
	}
	for _, s := range pushes[len(pushes)-1] {
		if s.labels[0][1] == "surge_http_reqs_total" && s.samples[0].value != 30 {
			t.Errorf("last push has http_reqs %v, want the final 30", s.samples[0].value)
		}
	}
}

// TestRemoteWriteFailures: a receiver that refuses, and one that is not
// there, cost one line at Close, never a tick.
func TestRemoteWriteFailures(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "out of order sample", http.StatusBadRequest)
	}))
	defer refusing.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct{ url, want string }{
		{refusing.URL, "prometheus-rw output: 1 of 1 pushes failed, the first: 400 Bad Request: out of order sample"},
		{gone, "prometheus-rw output: 1 of 1 pushes failed, the first: Post \"" + gone + "/api/v1/write\""},
	} {
		o, err := NewRemoteWrite(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		reg := metrics.NewRegistry()
		reg.Start(time.Now(), 0)
		reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
		reg.Tick(time.Now())
		if err := o.Tick(reg, time.Now()); err != nil {
			t.Errorf("tick: %v, want failures kept for Close", err)
		}
		err = o.Close(nil)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Close: %v, want one line starting %q", err, tc.want)
		}
	}
}
