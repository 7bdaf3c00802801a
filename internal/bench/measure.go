package bench

import (
	"time"

	"github.com/surgeload/surge/internal/bench/stats"
)

// MeasureOptions configure Measure.
type MeasureOptions struct {
	// Warmup calls run first and are not timed.
	Warmup int
	// N timed calls follow (DefaultMeasureN when ≤ 0).
	N int
}

// DefaultMeasureN is Measure's number of timed calls when none is given.
const DefaultMeasureN = 100

// MeasurePercentiles are the points of Measure's breakdown.
var MeasurePercentiles = []float64{50, 90, 95, 99, 99.9}

// Latency is the latency at one percentile.
type Latency struct {
	P     float64 // in percent: 99.9 for p99.9
	Value time.Duration
}

// Result is the outcome of Measure: every sample in call order, and their
// summary with a percentile breakdown.
type Result struct {
	Samples     []time.Duration
	Mean        time.Duration
	Stddev      time.Duration
	Min, Max    time.Duration
	Median      time.Duration
	Percentiles []Latency
}

// Percentile returns the latency at percentile p (in percent), computed
// from the samples.
func (r Result) Percentile(p float64) time.Duration {
	return seconds(stats.Quantile(stats.Sorted(toSeconds(r.Samples)), p/100))
}

// Measure calls f opts.Warmup times untimed, then opts.N times, timing
// each call with the monotonic clock, and summarizes the latencies:
// mean, standard deviation, min, max and p50/p90/p95/p99/p99.9 (exact,
// from the sorted samples).
func Measure(f func(), opts MeasureOptions) Result {
	n := opts.N
	if n <= 0 {
		n = DefaultMeasureN
	}
	for range opts.Warmup {
		f()
	}
	samples := make([]time.Duration, n)
	for i := range samples {
		start := time.Now()
		f()
		samples[i] = time.Since(start)
	}
	return Summarize(samples)
}

// Summarize describes latencies measured elsewhere the way Measure does.
func Summarize(samples []time.Duration) Result {
	if len(samples) == 0 {
		return Result{}
	}
	xs := toSeconds(samples)
	d := stats.Describe(xs)
	r := Result{
		Samples: samples,
		Mean:    seconds(d.Mean), Stddev: seconds(d.Stddev),
		Min: seconds(d.Min), Max: seconds(d.Max), Median: seconds(d.Median),
	}
	for _, p := range stats.Percentiles(xs, MeasurePercentiles) {
		r.Percentiles = append(r.Percentiles, Latency{P: p.P, Value: seconds(p.Value)})
	}
	return r
}

func toSeconds(ds []time.Duration) []float64 {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = d.Seconds()
	}
	return xs
}

func seconds(s float64) time.Duration { return time.Duration(s*1e9 + 0.5) }
