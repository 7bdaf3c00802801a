package stats_test

import (
	"fmt"

	"github.com/surgeload/surge/internal/bench/stats"
)

// Compare two samples of timings: the median of each with its confidence
// interval, and the U test's verdict.
func ExampleCompare() {
	old := []float64{10.1, 10.3, 9.9, 10.0, 10.2, 10.4, 9.8, 10.1}
	cur := []float64{9.1, 9.0, 9.3, 8.9, 9.2, 9.1, 9.0, 9.4}
	c := stats.Compare(old, cur, stats.DefaultAlpha, stats.DefaultConfidence)
	fmt.Printf("old %.2f ± %s, new %.2f ± %s: %s (%s)\n",
		c.Old.Center, c.Old.PctRangeString(), c.New.Center, c.New.PctRangeString(), c.Delta(), c.Test)
	// Output: old 10.10 ± 3%, new 9.10 ± 2%: -9.90% (p=0.000 n=8)
}

func ExampleFindOutliers() {
	runs := []float64{31.0, 12.1, 12.3, 11.9, 12.0, 12.2}
	o := stats.FindOutliers(runs)
	fmt.Println(o.Indices, o.FirstSlowest)
	// Output: [0] true
}
