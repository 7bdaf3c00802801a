// Package output streams a run's results while the test runs: NDJSON of
// every metric and tag set per second (--out json=FILE), Locust-like CSV
// (--out csv=PREFIX writes PREFIX_stats.csv at the end and
// PREFIX_stats_history.csv each second), and a Prometheus scrape endpoint
// (--out prometheus=ADDR), and, pushed once a second, InfluxDB line
// protocol (--out influxdb=URL), Prometheus remote write
// (--out prometheus-rw=URL) and OTLP/HTTP through the OpenTelemetry SDK
// (--out otlp=ENDPOINT).
//
// The pushing exporters of totals (prometheus-rw, otlp) send from their
// own goroutine with at most one snapshot waiting, so a slow receiver
// never delays the engine's tick, and an unreachable one costs one line
// at the end of the run, not the run.
//
// Outputs follow the accumulator shape: Tick after every registry tick
// writes the points closed since the last call, Close writes the final
// files. Nothing is buffered beyond one tick, so memory stays flat however
// long the run.
package output

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// Output receives points as the run goes and the summary at the end.
type Output interface {
	Tick(reg *metrics.Registry, now time.Time) error
	Close(s *report.Summary) error
}

// examples show each output's destination, for errors.
var examples = map[string]string{
	"json":          "json=points.ndjson",
	"csv":           "csv=stats",
	"prometheus":    "prometheus=127.0.0.1:9464",
	"prometheus-rw": "prometheus-rw=http://127.0.0.1:9090/api/v1/write",
	"otlp":          "otlp=http://127.0.0.1:4318",
	"influxdb":      "influxdb=http://127.0.0.1:8086/write?db=surge",
}

// Parse builds an output from a --out value such as "json=points.ndjson" or
// "csv=stats".
func Parse(spec string) (Output, error) {
	kind, arg, ok := strings.Cut(spec, "=")
	if ex, known := examples[kind]; ok && known && strings.TrimSpace(arg) == "" {
		return nil, fmt.Errorf("--out %q: %s needs a destination, e.g. %s", spec, kind, ex)
	}
	if !ok || arg == "" {
		return nil, fmt.Errorf("--out %q: want TYPE=DESTINATION, e.g. json=points.ndjson or csv=stats", spec)
	}
	switch kind {
	case "json":
		return NewJSON(arg)
	case "csv":
		return NewCSV(arg)
	case "prometheus":
		return NewPrometheus(arg)
	case "influxdb":
		return NewInflux(arg)
	case "prometheus-rw":
		return NewRemoteWrite(arg)
	case "otlp":
		return NewOTLP(arg)
	}
	return nil, fmt.Errorf("--out %q: unknown output %q (surge has json, csv, prometheus, prometheus-rw, otlp and influxdb)", spec, kind)
}

// cursor remembers, for each series, the first second an output has not
// written yet. It goes by seconds, not indexes, because a long run merges
// old points (metrics.RecentSeconds), which moves the newer ones.
type cursor map[*metrics.Series]int

// fresh returns the points of se not yet written, keeping back the point
// of the second still open (open: the second of the tick; at the end,
// finalSecond), which may still grow. Every other point is final, and is
// written at the tick after its second, long before the registry could
// merge it into an older bucket.
func (c cursor) fresh(se *metrics.Series, open int) []metrics.Point {
	next, seen := c[se]
	to := len(se.Points)
	if to > 0 && se.Points[to-1].Second >= open {
		to--
	}
	from := to
	for from > 0 && (!seen || se.Points[from-1].Second >= next) {
		from--
	}
	if to <= from {
		return nil
	}
	last := se.Points[to-1]
	c[se] = last.Second + last.Width()
	return se.Points[from:to]
}

// finalSecond is fresh's open second when nothing is open any more.
const finalSecond = math.MaxInt

// openSecond is the second a tick at now is in.
func openSecond(reg *metrics.Registry, now time.Time) int {
	return int(now.Sub(reg.StartTime()) / time.Second)
}
