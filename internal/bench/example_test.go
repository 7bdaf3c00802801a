package bench_test

import (
	"fmt"
	"strings"

	"github.com/surgeload/surge/internal/bench"
)

// Measure a function: warm-up calls, then timed calls, then a percentile
// breakdown.
func ExampleMeasure() {
	r := bench.Measure(func() { strings.Repeat("x", 1000) }, bench.MeasureOptions{Warmup: 10, N: 1000})
	fmt.Println(len(r.Samples), len(r.Percentiles), r.Percentiles[0].P, r.Min <= r.Median && r.Median <= r.Max)
	// Output: 1000 5 50 true
}
