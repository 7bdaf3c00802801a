package output

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/surgeload/surge/internal/metrics"
)

// TestPrometheusScrape serves a registry and reads /metrics back with
// Prometheus's own text parser: counters, rates and histograms with
// buckets that add up.
func TestPrometheusScrape(t *testing.T) {
	reg := metrics.NewRegistry()
	start := time.Now()
	reg.Start(start, 0)
	b := reg.Builtin
	tags := reg.Intern(metrics.Tag{Key: "name", Value: `/api/"items"`}, metrics.Tag{Key: "status", Value: "200"})
	sh := reg.Shard(0)
	for i := 1; i <= 100; i++ {
		sh.Add(b.HTTPReqs, tags, 1)
		sh.Add(b.HTTPReqDuration, tags, float64(i)) // 1..100 ms
		sh.Add(b.HTTPReqFailed, tags, float64(i%10/9))
	}
	reg.Tick(start.Add(time.Second))
	p, err := NewPrometheus("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(nil)
	p.Tick(reg, start.Add(time.Second))
	resp, err := http.Get("http://" + p.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus's parser rejects the page: %v", err)
	}
	reqs := fams["surge_http_reqs_total"]
	if reqs == nil || reqs.Metric[0].GetCounter().GetValue() != 100 {
		t.Fatalf("surge_http_reqs_total %v", reqs)
	}
	labels := map[string]string{}
	for _, l := range reqs.Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["name"] != `/api/"items"` || labels["status"] != "200" {
		t.Errorf("labels %v", labels)
	}
	h := fams["surge_http_req_duration"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 100 || h.GetSampleSum() != 5050 {
		t.Errorf("histogram count %d sum %v, want 100 and 5050", h.GetSampleCount(), h.GetSampleSum())
	}
	var prev uint64
	for _, bk := range h.Bucket {
		if bk.GetCumulativeCount() < prev {
			t.Errorf("bucket le=%v count %d below the previous %d", bk.GetUpperBound(), bk.GetCumulativeCount(), prev)
		}
		prev = bk.GetCumulativeCount()
		// within the histogram's 1%: samples ≤ le are about min(le, 100)
		if le := bk.GetUpperBound(); le >= 1 && le <= 100 {
			want := le
			if got := float64(bk.GetCumulativeCount()); got < want*0.97-1 || got > want*1.03+1 {
				t.Errorf("bucket le=%v has %v samples, want about %v", le, got, want)
			}
		}
	}
	if fams["surge_http_req_failed_nonzero_total"].GetMetric()[0].GetCounter().GetValue() != 10 {
		t.Errorf("failed requests %v", fams["surge_http_req_failed_nonzero_total"])
	}
}
