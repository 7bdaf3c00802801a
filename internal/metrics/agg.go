package metrics

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Trend values are stored in the histogram as integers in thousandths of the
// metric's unit (microseconds for times in ms), from 0 up to histMax.
const (
	histScale   = 1000
	histMax     = 1e13 // 10^10 of the unit: 115 days in ms
	histSigFigs = 2    // ≤1% relative error
)

func newHist() *hdr.Histogram { return hdr.New(1, histMax, histSigFigs) }

// Agg accumulates samples of one metric: it is the sink a VU records into,
// the content of one second of a series, and a series' run total.
type Agg struct {
	Type    Type
	Count   int64   // samples
	Sum     float64 // Counter: the total; Trend: the sum of values
	Min     float64
	Max     float64
	Nonzero int64   // Rate: samples that were non-zero
	Last    float64 // Gauge: the latest value
	lastSeq uint64
	hist    *hdr.Histogram // Trend only, allocated on first use
}

// NewAgg returns an empty accumulator for a metric of type t.
func NewAgg(t Type) *Agg { return &Agg{Type: t} }

// Add records one sample.
func (a *Agg) Add(v float64) {
	if a.Count == 0 || v < a.Min {
		a.Min = v
	}
	if a.Count == 0 || v > a.Max {
		a.Max = v
	}
	a.Count++
	a.Sum += v
	switch a.Type {
	case Rate:
		if v != 0 {
			a.Nonzero++
		}
	case Gauge:
		a.Last = v
	case Trend:
		if a.hist == nil {
			a.hist = newHist()
		}
		a.hist.RecordValue(toHist(v))
	}
}

func toHist(v float64) int64 {
	x := v * histScale
	switch {
	case x <= 0 || math.IsNaN(x):
		return 0
	case x >= histMax:
		return histMax
	}
	return int64(x + 0.5)
}

// Merge folds b into a. Both must be of the same Type.
func (a *Agg) Merge(b *Agg) {
	if b == nil || b.Count == 0 {
		return
	}
	if a.Count == 0 || b.Min < a.Min {
		a.Min = b.Min
	}
	if a.Count == 0 || b.Max > a.Max {
		a.Max = b.Max
	}
	a.Count += b.Count
	a.Sum += b.Sum
	a.Nonzero += b.Nonzero
	if b.lastSeq >= a.lastSeq {
		a.Last, a.lastSeq = b.Last, b.lastSeq
	}
	if b.hist != nil {
		if a.hist == nil {
			a.hist = newHist()
		}
		a.hist.Merge(b.hist)
	}
}

// Reset empties a, keeping its histogram's memory.
func (a *Agg) Reset() {
	h := a.hist
	*a = Agg{Type: a.Type, hist: h}
	if h != nil {
		h.Reset()
	}
}

// Clone returns an independent copy.
func (a *Agg) Clone() *Agg {
	c := *a
	if a.hist != nil {
		c.hist = a.hist.Clone()
	}
	return &c
}

// Avg is the mean of the samples (0 when there are none).
func (a *Agg) Avg() float64 {
	if a.Count == 0 {
		return 0
	}
	return a.Sum / float64(a.Count)
}

// RateValue is the share of non-zero samples, in [0, 1].
func (a *Agg) RateValue() float64 {
	if a.Count == 0 {
		return 0
	}
	return float64(a.Nonzero) / float64(a.Count)
}

// Percentile returns the p-th percentile (0–100) of a Trend, within the
// histogram's 1% relative error and clamped to the exact min and max.
func (a *Agg) Percentile(p float64) float64 {
	if a.Count == 0 || a.hist == nil {
		return 0
	}
	if p >= 100 {
		return a.Max
	}
	if p <= 0 {
		return a.Min
	}
	v := float64(a.hist.ValueAtPercentile(p)) / histScale
	return math.Max(a.Min, math.Min(a.Max, v))
}

// Histogram returns the Trend's histogram snapshot for export and exact
// merging elsewhere (nil for other types or no samples).
func (a *Agg) Histogram() *hdr.Snapshot {
	if a.hist == nil {
		return nil
	}
	return a.hist.Export()
}

// SetHistogram replaces the Trend's histogram with an imported snapshot.
func (a *Agg) SetHistogram(s *hdr.Snapshot) {
	if s == nil {
		a.hist = nil
		return
	}
	a.hist = hdr.Import(s)
}

// Value is the single number a threshold or summary reads for a metric of
// this type when no aggregation is named: a counter's count, a gauge's last
// value, a rate's rate, a trend's average.
func (a *Agg) Value() float64 {
	switch a.Type {
	case Counter:
		return a.Sum
	case Gauge:
		return a.Last
	case Rate:
		return a.RateValue()
	}
	return a.Avg()
}

// CumulativeCounts returns, for each upper bound (in the metric's unit,
// ascending), how many of a Trend's samples were at most that bound — the
// buckets of a classic Prometheus histogram, within the histogram's 1%.
func (a *Agg) CumulativeCounts(bounds []float64) []int64 {
	out := make([]int64, len(bounds))
	if a.hist == nil {
		return out
	}
	for _, bar := range a.hist.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := float64(bar.To) / histScale
		for i, b := range bounds {
			if v <= b {
				out[i] += bar.Count
			}
		}
	}
	return out
}
