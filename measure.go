package surge

import "github.com/surgeload/surge/internal/bench"

// Latencies is the distribution of Measure's timed calls.
type Latencies = bench.Result

// MeasureOptions are Measure's warm-up and timed call counts (N ≤ 0: 100).
type MeasureOptions = bench.MeasureOptions

// Measure calls f Warmup times untimed (caches, JIT, lazy init), then N
// times timed, and returns the percentile breakdown: mean, stddev, min,
// max, median and p50/p90/p95/p99/p99.9. It is the brief's
// measure_latencies in Go; for comparisons with statistics use
// `surge bench`.
func Measure(f func(), opts MeasureOptions) Latencies { return bench.Measure(f, opts) }
