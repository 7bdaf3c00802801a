package bench

import (
	"testing"
	"time"
)

func TestMeasureCounts(t *testing.T) {
	calls := 0
	r := Measure(func() { calls++ }, MeasureOptions{Warmup: 3, N: 20})
	if calls != 23 || len(r.Samples) != 20 {
		t.Errorf("calls %d samples %d, want 23 and 20", calls, len(r.Samples))
	}
	calls = 0
	Measure(func() { calls++ }, MeasureOptions{})
	if calls != DefaultMeasureN {
		t.Errorf("default calls %d, want %d", calls, DefaultMeasureN)
	}
}

func TestMeasureSleep(t *testing.T) {
	r := Measure(func() { time.Sleep(2 * time.Millisecond) }, MeasureOptions{Warmup: 1, N: 10})
	if r.Min < 2*time.Millisecond || r.Median < 2*time.Millisecond {
		t.Errorf("min %v median %v, want ≥ 2ms for a 2ms sleep", r.Min, r.Median)
	}
	if len(r.Percentiles) != len(MeasurePercentiles) {
		t.Fatalf("%d percentiles", len(r.Percentiles))
	}
	for i := 1; i < len(r.Percentiles); i++ {
		if r.Percentiles[i].Value < r.Percentiles[i-1].Value {
			t.Errorf("percentiles not monotone: %v", r.Percentiles)
		}
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	r := Summarize(ds)
	want := map[float64]time.Duration{50: 50500 * time.Microsecond, 90: 90100 * time.Microsecond, 99: 99010 * time.Microsecond}
	for _, p := range r.Percentiles {
		if w, ok := want[p.P]; ok && p.Value != w {
			t.Errorf("p%v = %v, want %v", p.P, p.Value, w)
		}
	}
	if r.Min != time.Millisecond || r.Max != 100*time.Millisecond || r.Mean != 50500*time.Microsecond {
		t.Errorf("min %v max %v mean %v", r.Min, r.Max, r.Mean)
	}
	if r.Percentile(50) != 50500*time.Microsecond {
		t.Errorf("Percentile(50) = %v", r.Percentile(50))
	}
	if z := Summarize(nil); len(z.Percentiles) != 0 || z.Mean != 0 {
		t.Errorf("Summarize(nil) = %+v", z)
	}
}
