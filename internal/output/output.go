// Package output streams a run's results while the test runs: NDJSON of
// every metric and tag set per second (--out json=FILE), Locust-like CSV
// (--out csv=PREFIX writes PREFIX_stats.csv at the end and
// PREFIX_stats_history.csv each second), and a Prometheus scrape endpoint
// (--out prometheus=ADDR), and InfluxDB line protocol pushed once a second
// (--out influxdb=URL).
//
// Outputs follow the accumulator shape: Tick after every registry tick
// writes the points closed since the last call, Close writes the final
// files. Nothing is buffered beyond one tick, so memory stays flat however
// long the run.
package output

import (
	"fmt"
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

// Parse builds an output from a --out value such as "json=points.ndjson" or
// "csv=stats".
func Parse(spec string) (Output, error) {
	kind, arg, ok := strings.Cut(spec, "=")
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
	}
	return nil, fmt.Errorf("--out %q: unknown output %q (surge has json, csv, prometheus and influxdb)", spec, kind)
}

// cursor remembers how many points of each series an output has written.
type cursor map[*metrics.Series]int

// fresh returns the points of se not yet written, keeping back the last one
// while it may still grow (a point is final once a later second exists or
// final is set).
func (c cursor) fresh(se *metrics.Series, final bool) []metrics.Point {
	from := c[se]
	to := len(se.Points)
	if !final && to > 0 {
		to--
	}
	if to <= from {
		return nil
	}
	c[se] = to
	return se.Points[from:to]
}
