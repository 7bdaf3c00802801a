// Package result saves a finished run to disk and reads it back: the
// summary, every series' total with its whole histogram (so percentiles can
// be recomputed and runs merged), and the one-second points. `surge report`
// renders a saved run and `surge compare` sets two side by side.
//
// The file is gzipped JSON, versioned, one run per file.
package result

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// FormatVersion is the version of the file layout.
const FormatVersion = 1

// Result is a saved run.
type Result struct {
	Format  int
	Surge   string // surge's version
	Start   time.Time
	Config  map[string]string // how the test was run (flags, script)
	Summary *report.Summary
	Series  []Series
}

// Series is one saved series.
type Series struct {
	Total  metrics.Delta
	Points []metrics.Point
}

// New captures a finished run.
func New(sum *report.Summary, reg *metrics.Registry, version string, config map[string]string) *Result {
	r := &Result{Format: FormatVersion, Surge: version, Start: sum.Start, Config: config, Summary: sum}
	for _, s := range reg.Series() {
		r.Series = append(r.Series, Series{Total: s.TotalDelta(), Points: s.Points})
	}
	return r
}

// Save writes r to path (gzipped JSON), creating the directory.
func (r *Result) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving result: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("saving result: %w", err)
	}
	zw := gzip.NewWriter(f)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		f.Close()
		return fmt.Errorf("saving result %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("saving result %s: %w", path, err)
	}
	return f.Close()
}

// Load reads a saved result.
func Load(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading result: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading result %s: not a surge result file (%v)", path, err)
	}
	var r Result
	if err := json.NewDecoder(zr).Decode(&r); err != nil {
		return nil, fmt.Errorf("reading result %s: %w", path, err)
	}
	if r.Format != FormatVersion {
		return nil, fmt.Errorf("reading result %s: format version %d, this surge reads %d", path, r.Format, FormatVersion)
	}
	if r.Summary == nil {
		return nil, fmt.Errorf("reading result %s: no summary in the file", path)
	}
	return &r, nil
}

// Registry rebuilds the run's registry: totals with histograms and points.
func (r *Result) Registry() (*metrics.Registry, error) {
	reg := metrics.NewRegistry()
	reg.Start(r.Start, r.Summary.Warmup)
	for _, s := range r.Series {
		if err := reg.Restore(s.Total, s.Points); err != nil {
			return nil, fmt.Errorf("restoring %s: %w", s.Total.Metric, err)
		}
	}
	return reg, nil
}

// DefaultPath is where a run started at t is saved when no path is given.
func DefaultPath(dir string, t time.Time) string {
	return filepath.Join(dir, t.UTC().Format("20060102-150405")+".json.gz")
}

// perSecond sums a metric's points per second across its series
// (optionally only series whose tags contain filter). The older seconds of
// a long run are buckets of several (metrics.RecentSeconds), the same in
// every series; a bucket's point has its Span.
func (r *Result) perSecond(metric string, filter []metrics.Tag) map[int]*metrics.Point {
	out := map[int]*metrics.Point{}
	for _, s := range r.Series {
		if s.Total.Metric != metric || !contains(s.Total.Tags, filter) {
			continue
		}
		for _, p := range s.Points {
			if p.Warmup {
				continue
			}
			q := out[p.Second]
			if q == nil {
				q = &metrics.Point{Second: p.Second}
				out[p.Second] = q
			}
			q.Count += p.Count
			q.Sum += p.Sum
			q.Nonzero += p.Nonzero
			q.Span = max(q.Span, p.Span)
		}
	}
	return out
}

func contains(tags, filter []metrics.Tag) bool {
	for _, f := range filter {
		found := false
		for _, t := range tags {
			if t == f {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
