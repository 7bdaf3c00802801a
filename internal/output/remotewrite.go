package output

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// RemoteWrite pushes the run's totals to a Prometheus remote-write
// endpoint once a second (--out prometheus-rw=URL): remote write 1.0, a
// snappy-compressed protobuf WriteRequest. The series are the ones
// /metrics serves (--out prometheus), each with one sample stamped with
// the tick's time, so a dashboard built on a scrape of surge works on
// remote-written data unchanged. Trends are classic histograms
// (_bucket{le}, _sum, _count), which add up across series and runs,
// unlike summaries' quantiles.
//
// The WriteRequest is encoded by hand with protowire (five fields, no
// generated code), and pushed by a pusher, so a slow receiver never
// holds up the engine's tick.
type RemoteWrite struct {
	url    string
	client *http.Client
	push   *pusher[[]byte]
	last   int64 // timestamp of the last tick, ms
}

// DefaultRemoteWritePath is where a URL without a path writes
// (Prometheus's own receiver, also VictoriaMetrics').
const DefaultRemoteWritePath = "/api/v1/write"

// NewRemoteWrite checks the URL and returns the output; nothing is sent
// until the first tick.
func NewRemoteWrite(raw string) (*RemoteWrite, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus-rw output: want a remote-write URL like http://127.0.0.1:9090/api/v1/write, got %q", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = DefaultRemoteWritePath
	}
	o := &RemoteWrite{url: u.String(), client: &http.Client{Timeout: pushTimeout}}
	o.push = newPusher("prometheus-rw output", o.send)
	return o, nil
}

// Tick encodes the run's totals at now and hands them to the sender.
func (o *RemoteWrite) Tick(reg *metrics.Registry, now time.Time) error {
	ts := max(now.UnixMilli(), o.last+1) // samples of a series must move forward
	o.last = ts
	o.push.offer(snappy.Encode(nil, encodeWriteRequest(promSeries(reg), ts)))
	return nil
}

// Close sends the final tick's totals and reports failed pushes.
func (o *RemoteWrite) Close(*report.Summary) error { return o.push.close() }

func (o *RemoteWrite) send(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "surge")
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// label is one Prometheus label, unescaped.
type label struct{ name, value string }

// promSample is one series of the /metrics page with its current value.
type promSample struct {
	labels []label // sorted by name, __name__ included
	value  float64
}

// promSeries lists the series Exposition renders, with the same names,
// labels and values (warm-up included, as a scraper of a live process
// sees it).
func promSeries(reg *metrics.Registry) []promSample {
	var out []promSample
	add := func(name string, tags []metrics.Tag, v float64, extra ...string) {
		out = append(out, promSample{labels: promLabelPairs(name, tags, extra...), value: v})
	}
	for _, s := range reg.Series() {
		name := "surge_" + promName(s.Metric.Name)
		a := liveTotal(s)
		tags := s.Tags.Tags()
		switch s.Metric.Type {
		case metrics.Counter:
			add(name+"_total", tags, a.Sum)
		case metrics.Gauge:
			add(name, tags, a.Last)
		case metrics.Rate:
			add(name+"_total", tags, float64(a.Count))
			add(name+"_nonzero_total", tags, float64(a.Nonzero))
		case metrics.Trend:
			counts := a.CumulativeCounts(DefaultBuckets)
			for i, le := range DefaultBuckets {
				add(name+"_bucket", tags, float64(counts[i]), "le", num(le))
			}
			add(name+"_bucket", tags, float64(a.Count), "le", "+Inf")
			add(name+"_sum", tags, a.Sum)
			add(name+"_count", tags, float64(a.Count))
		}
	}
	return out
}

// liveTotal is a series' total with its warm-up merged in.
func liveTotal(s *metrics.Series) *metrics.Agg {
	a := s.Total.Clone()
	a.Merge(s.Warmup)
	return a
}

// promLabelPairs is the label set of one sample: the metric name, the
// series' tags under Prometheus-safe names and extra name/value pairs
// (le), sorted by name as remote write requires. When two tags map to the
// same name, the later one wins; __name__ and extras win over tags.
func promLabelPairs(name string, tags []metrics.Tag, extra ...string) []label {
	byName := make(map[string]string, len(tags)+2)
	for _, t := range tags {
		byName[promName(t.Key)] = t.Value
	}
	for i := 0; i+1 < len(extra); i += 2 {
		byName[extra[i]] = extra[i+1]
	}
	byName["__name__"] = name
	ls := make([]label, 0, len(byName))
	for n, v := range byName {
		if v != "" {
			ls = append(ls, label{n, v})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].name < ls[j].name })
	return ls
}

// encodeWriteRequest encodes prometheus.WriteRequest (remote write 1.0):
//
//	WriteRequest { repeated TimeSeries timeseries = 1; }
//	TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//	Label        { string name = 1; string value = 2; }
//	Sample       { double value = 1; int64 timestamp = 2; }  // ms
func encodeWriteRequest(series []promSample, ts int64) []byte {
	var b, tsb, lb []byte
	for _, s := range series {
		tsb = tsb[:0]
		for _, l := range s.labels {
			lb = protowire.AppendTag(lb[:0], 1, protowire.BytesType)
			lb = protowire.AppendString(lb, l.name)
			lb = protowire.AppendTag(lb, 2, protowire.BytesType)
			lb = protowire.AppendString(lb, l.value)
			tsb = protowire.AppendTag(tsb, 1, protowire.BytesType)
			tsb = protowire.AppendBytes(tsb, lb)
		}
		lb = protowire.AppendTag(lb[:0], 1, protowire.Fixed64Type)
		lb = protowire.AppendFixed64(lb, math.Float64bits(s.value))
		lb = protowire.AppendTag(lb, 2, protowire.VarintType)
		lb = protowire.AppendVarint(lb, uint64(ts))
		tsb = protowire.AppendTag(tsb, 2, protowire.BytesType)
		tsb = protowire.AppendBytes(tsb, lb)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, tsb)
	}
	return b
}
