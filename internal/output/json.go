package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// JSON writes one line per metric, tag set and second.
type JSON struct {
	f     *os.File
	w     *bufio.Writer
	seen  cursor
	reg   *metrics.Registry
	start time.Time
}

// Line is one NDJSON record.
type Line struct {
	Time   string            `json:"time"`
	Second int               `json:"second"`
	Metric string            `json:"metric"`
	Type   string            `json:"type"`
	Tags   map[string]string `json:"tags,omitempty"`
	Count  int64             `json:"count"`
	Sum    float64           `json:"sum,omitempty"`
	Min    float64           `json:"min"`
	Max    float64           `json:"max"`
	Avg    *float64          `json:"avg,omitempty"`
	Rate   *float64          `json:"rate,omitempty"`
	Value  *float64          `json:"value,omitempty"`
	P50    *float64          `json:"p50,omitempty"`
	P90    *float64          `json:"p90,omitempty"`
	P95    *float64          `json:"p95,omitempty"`
	P99    *float64          `json:"p99,omitempty"`
	Warmup bool              `json:"warmup,omitempty"`
	Unit   string            `json:"unit,omitempty"`
}

// NewJSON creates path.
func NewJSON(path string) (*JSON, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating json output: %w", err)
	}
	return &JSON{f: f, w: bufio.NewWriter(f), seen: cursor{}}, nil
}

// Tick writes the points closed since the last call.
func (j *JSON) Tick(reg *metrics.Registry, now time.Time) error {
	j.reg = reg
	return j.write(reg, openSecond(reg, now))
}

func (j *JSON) write(reg *metrics.Registry, open int) error {
	start := reg.StartTime()
	enc := json.NewEncoder(j.w)
	for _, se := range reg.Series() {
		for _, p := range j.seen.fresh(se, open) {
			if err := enc.Encode(lineOf(se, p, start)); err != nil {
				return fmt.Errorf("writing json output: %w", err)
			}
		}
	}
	return j.w.Flush()
}

func lineOf(se *metrics.Series, p metrics.Point, start time.Time) Line {
	f := func(v float64) *float64 { return &v }
	l := Line{
		Time: start.Add(time.Duration(p.Second) * time.Second).UTC().Format(time.RFC3339), Second: p.Second,
		Metric: se.Metric.Name, Type: se.Metric.Type.String(), Tags: se.Tags.Map(),
		Count: p.Count, Min: p.Min, Max: p.Max, Warmup: p.Warmup,
	}
	switch se.Metric.Contains {
	case metrics.Time:
		l.Unit = "ms"
	case metrics.Data:
		l.Unit = "bytes"
	}
	switch se.Metric.Type {
	case metrics.Counter:
		l.Sum = p.Sum
	case metrics.Gauge:
		l.Value = f(p.Last)
	case metrics.Rate:
		l.Rate = f(float64(p.Nonzero) / float64(max(p.Count, 1)))
	case metrics.Trend:
		l.Sum = p.Sum
		l.Avg = f(p.Sum / float64(max(p.Count, 1)))
		l.P50, l.P90, l.P95, l.P99 = f(p.P50), f(p.P90), f(p.P95), f(p.P99)
	}
	return l
}

// Close writes the remaining points and closes the file.
func (j *JSON) Close(*report.Summary) error {
	var err error
	if j.reg != nil {
		err = j.write(j.reg, finalSecond)
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
