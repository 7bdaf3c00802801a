package output

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// OTLP pushes the run's totals to an OpenTelemetry receiver over
// OTLP/HTTP once a second (--out otlp=http://127.0.0.1:4318), with
// cumulative temporality from the start of the run:
//
//   - counters are monotonic sums (surge_http_reqs),
//   - gauges are gauges (surge_vus),
//   - rates are one monotonic integer sum counting samples, with the
//     attribute condition=zero or condition=nonzero (as k6 1.4 does), so the
//     rate is nonzero/(zero+nonzero), exactly,
//   - trends are explicit-bucket histograms on DefaultBuckets (milliseconds
//     for times) with exact count, sum, min and max.
//
// Metric names are surge's with the surge_ prefix the /metrics page uses,
// tags are attributes, and the resource has service.name=surge.
//
// Note: the SDK's instruments (a MeterProvider with a reader) were
// rejected: a histogram instrument records single values, and surge's
// trends are HDR histograms that no longer hold them; feeding bucket
// midpoints would make the sum a guess. surge builds the SDK's metricdata
// itself each tick and the SDK's OTLP exporter encodes and sends it.
type OTLP struct {
	exp  *otlpmetrichttp.Exporter
	res  *resource.Resource
	push *pusher[*metricdata.ResourceMetrics]

	// start is the start time of the cumulative points: the run's start,
	// moved to the tick before a reset of the statistics (the dashboard's
	// "reset"), so that a backend sees a new series rather than a counter
	// going down.
	start    time.Time
	lastTick time.Time
	seen     int64 // samples in the totals at the last tick
}

// DefaultOTLPPath is the OTLP/HTTP metrics path, used when the endpoint
// has none.
const DefaultOTLPPath = "/v1/metrics"

// otlpScope names the instrumentation scope of every metric.
var otlpScope = instrumentation.Scope{Name: "github.com/surgeload/surge"}

// NewOTLP checks the endpoint and returns the output; nothing is sent
// until the first tick. http:// sends in plain text, https:// over TLS.
// The OTEL_EXPORTER_OTLP_HEADERS environment variable adds headers (an
// API key, say), as for any OpenTelemetry SDK.
func NewOTLP(raw string) (*OTLP, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp output: want an OTLP/HTTP endpoint like http://127.0.0.1:4318, got %q", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = DefaultOTLPPath
	}
	exp, err := otlpmetrichttp.New(context.Background(),
		otlpmetrichttp.WithEndpointURL(u.String()),
		otlpmetrichttp.WithTimeout(pushTimeout),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}))
	if err != nil {
		return nil, fmt.Errorf("otlp output: %w", err)
	}
	o := &OTLP{
		exp: exp,
		res: resource.NewSchemaless(attribute.String("service.name", "surge")),
	}
	o.push = newPusher("otlp output", func(ctx context.Context, rm *metricdata.ResourceMetrics) error {
		return o.exp.Export(ctx, rm)
	})
	return o, nil
}

// Tick builds the run's totals at now and hands them to the sender.
func (o *OTLP) Tick(reg *metrics.Registry, now time.Time) error {
	if o.start.IsZero() {
		o.start = reg.StartTime()
	}
	n := samplesSeen(reg)
	if n < o.seen { // the totals were reset since the last tick
		o.start = o.lastTick
	}
	o.seen, o.lastTick = n, now
	o.push.offer(otlpMetrics(o.res, reg, o.start, now))
	return nil
}

// samplesSeen counts the samples in every series' totals; it only goes
// down when the statistics are reset.
func samplesSeen(reg *metrics.Registry) int64 {
	var n int64
	for _, s := range reg.Series() {
		n += s.Total.Count + s.Warmup.Count
	}
	return n
}

// Close sends the final tick's totals, shuts the exporter down and
// reports failed pushes.
func (o *OTLP) Close(*report.Summary) error {
	err := o.push.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	o.exp.Shutdown(ctx) // holds no data; nothing to report
	return err
}

// otlpMetrics converts the registry's totals (warm-up included, as
// /metrics) to the SDK's data model, cumulative since start.
func otlpMetrics(res *resource.Resource, reg *metrics.Registry, start, now time.Time) *metricdata.ResourceMetrics {
	var ms []metricdata.Metrics
	byMetric := map[*metrics.Metric]int{}
	for _, s := range reg.Series() {
		i, ok := byMetric[s.Metric]
		if !ok {
			i = len(ms)
			byMetric[s.Metric] = i
			ms = append(ms, metricdata.Metrics{Name: "surge_" + promName(s.Metric.Name), Unit: otlpUnit(s.Metric.Contains), Data: otlpEmpty(s.Metric.Type)})
		}
		ms[i].Data = otlpAppend(ms[i].Data, s, start, now)
	}
	return &metricdata.ResourceMetrics{Resource: res, ScopeMetrics: []metricdata.ScopeMetrics{{Scope: otlpScope, Metrics: ms}}}
}

// otlpUnit is the UCUM unit of a metric's values.
func otlpUnit(v metrics.ValueType) string {
	switch v {
	case metrics.Time:
		return "ms"
	case metrics.Data:
		return "By"
	}
	return ""
}

func otlpEmpty(t metrics.Type) metricdata.Aggregation {
	switch t {
	case metrics.Counter:
		return metricdata.Sum[float64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
	case metrics.Rate:
		return metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
	case metrics.Trend:
		return metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality}
	}
	return metricdata.Gauge[float64]{}
}

// otlpAppend adds series s's data points to data.
func otlpAppend(data metricdata.Aggregation, s *metrics.Series, start, now time.Time) metricdata.Aggregation {
	a := liveTotal(s)
	tags := s.Tags.Tags()
	attrs := func(extra ...attribute.KeyValue) attribute.Set {
		kv := make([]attribute.KeyValue, 0, len(tags)+len(extra))
		for _, t := range tags {
			kv = append(kv, attribute.String(t.Key, t.Value))
		}
		return attribute.NewSet(append(kv, extra...)...)
	}
	switch d := data.(type) {
	case metricdata.Sum[float64]:
		d.DataPoints = append(d.DataPoints, metricdata.DataPoint[float64]{Attributes: attrs(), StartTime: start, Time: now, Value: a.Sum})
		return d
	case metricdata.Sum[int64]:
		d.DataPoints = append(d.DataPoints,
			metricdata.DataPoint[int64]{Attributes: attrs(attribute.String("condition", "zero")), StartTime: start, Time: now, Value: a.Count - a.Nonzero},
			metricdata.DataPoint[int64]{Attributes: attrs(attribute.String("condition", "nonzero")), StartTime: start, Time: now, Value: a.Nonzero})
		return d
	case metricdata.Gauge[float64]:
		d.DataPoints = append(d.DataPoints, metricdata.DataPoint[float64]{Attributes: attrs(), Time: now, Value: a.Last})
		return d
	case metricdata.Histogram[float64]:
		d.DataPoints = append(d.DataPoints, otlpHistogram(a, attrs(), start, now))
		return d
	}
	return data
}

// otlpHistogram turns a trend's total into explicit buckets: the count,
// sum, min and max are exact, the split between buckets is within the
// HDR histogram's 1%.
func otlpHistogram(a *metrics.Agg, attrs attribute.Set, start, now time.Time) metricdata.HistogramDataPoint[float64] {
	cum := a.CumulativeCounts(DefaultBuckets)
	counts := make([]uint64, len(DefaultBuckets)+1)
	var below int64
	for i, c := range cum {
		c = min(max(c, below), a.Count)
		counts[i] = uint64(c - below)
		below = c
	}
	counts[len(DefaultBuckets)] = uint64(a.Count - below)
	p := metricdata.HistogramDataPoint[float64]{
		Attributes: attrs, StartTime: start, Time: now,
		Count: uint64(a.Count), Bounds: DefaultBuckets, BucketCounts: counts, Sum: a.Sum,
	}
	if a.Count > 0 {
		p.Min, p.Max = metricdata.NewExtrema(a.Min), metricdata.NewExtrema(a.Max)
	}
	return p
}
