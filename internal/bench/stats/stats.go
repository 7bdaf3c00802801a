// Package stats holds the pure statistics behind surge bench and surge
// stats: descriptive summaries, exact percentiles, outliers by modified
// z-score, ratios with propagated uncertainty, histogram binning, and
// two-sample comparisons.
//
// Every function here is a pure function over float64 slices: no clocks,
// no I/O, no goroutines, so each is tested with plain tables. Inputs are
// never modified; functions that need order sort a copy.
//
// Comparisons deliberately do not implement a test of their own: Compare
// states the non-parametric assumption to golang.org/x/perf/benchmath,
// which picks the Mann-Whitney U test and the order-statistic confidence
// interval of the median, so surge's numbers agree with benchstat's.
//
// Note: percentiles here are exact (linear interpolation between order
// statistics, as numpy's default). surge bench and surge stats work on
// finite, stored samples; the load engine's constant-memory HDR histograms
// are a different job and live in the metrics package.
package stats

import (
	"math"
	"slices"
)

// Description summarizes a sample.
type Description struct {
	Count  int
	Mean   float64
	Stddev float64 // sample standard deviation (n-1); 0 for fewer than 2 values
	Min    float64
	Max    float64
	Median float64
}

// Describe returns the descriptive statistics of xs. An empty sample gives
// a zero Description with NaN mean and median.
func Describe(xs []float64) Description {
	if len(xs) == 0 {
		return Description{Mean: math.NaN(), Median: math.NaN(), Min: math.NaN(), Max: math.NaN(), Stddev: math.NaN()}
	}
	s := Sorted(xs)
	return Description{
		Count:  len(xs),
		Mean:   Mean(xs),
		Stddev: Stddev(xs),
		Min:    s[0],
		Max:    s[len(s)-1],
		Median: Quantile(s, 0.5),
	}
}

// Sorted returns a sorted copy of xs.
func Sorted(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// Mean is the arithmetic mean of xs (NaN when empty).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// Stddev is the sample standard deviation of xs, with Bessel's correction.
// It is 0 for a single value and NaN for none.
func Stddev(xs []float64) float64 {
	switch len(xs) {
	case 0:
		return math.NaN()
	case 1:
		return 0
	}
	m := Mean(xs)
	var ss float64
	for _, x := range xs {
		d := x - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of an already sorted sample,
// interpolating linearly between the closest order statistics (Hyndman and
// Fan type 7, numpy's default). It returns NaN for an empty sample.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	q = math.Max(0, math.Min(1, q))
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return sorted[lo]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}

// Percentile is one point of a percentile breakdown.
type Percentile struct {
	P     float64 // in percent: 99.9 for p99.9
	Value float64
}

// StandardPercentiles are the points surge stats reports.
var StandardPercentiles = []float64{50, 90, 95, 99, 99.9, 99.99}

// Percentiles returns the value at each percentile ps (in percent) of xs.
func Percentiles(xs []float64, ps []float64) []Percentile {
	s := Sorted(xs)
	out := make([]Percentile, len(ps))
	for i, p := range ps {
		out[i] = Percentile{P: p, Value: Quantile(s, p/100)}
	}
	return out
}

// GeoMean is the geometric mean of xs; NaN if any value is ≤ 0 or xs is
// empty.
func GeoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		if x <= 0 {
			return math.NaN()
		}
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}
