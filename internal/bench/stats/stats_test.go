package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want Description
	}{
		{"one", []float64{3}, Description{Count: 1, Mean: 3, Stddev: 0, Min: 3, Max: 3, Median: 3}},
		{"odd", []float64{5, 1, 3}, Description{Count: 3, Mean: 3, Stddev: 2, Min: 1, Max: 5, Median: 3}},
		{"even", []float64{4, 1, 2, 3}, Description{Count: 4, Mean: 2.5, Stddev: math.Sqrt(5.0 / 3), Min: 1, Max: 4, Median: 2.5}},
		{"negative", []float64{-2, 2}, Description{Count: 2, Mean: 0, Stddev: math.Sqrt(8), Min: -2, Max: 2, Median: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.xs)
			got := Describe(tt.xs)
			if got.Count != tt.want.Count || !near(got.Mean, tt.want.Mean, 1e-12) ||
				!near(got.Stddev, tt.want.Stddev, 1e-12) || got.Min != tt.want.Min ||
				got.Max != tt.want.Max || !near(got.Median, tt.want.Median, 1e-12) {
				t.Errorf("Describe(%v) = %+v, want %+v", tt.xs, got, tt.want)
			}
			if !slices.Equal(in, tt.xs) {
				t.Errorf("Describe modified its input: %v", tt.xs)
			}
		})
	}
	if d := Describe(nil); d.Count != 0 || !math.IsNaN(d.Mean) {
		t.Errorf("Describe(nil) = %+v, want count 0 and NaN mean", d)
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		q, want float64
	}{
		{0, 1}, {1, 10}, {0.5, 5.5}, {0.9, 9.1}, {0.99, 9.91}, {0.25, 3.25}, {-1, 1}, {2, 10},
	}
	for _, tt := range tests {
		if got := Quantile(s, tt.q); !near(got, tt.want, 1e-9) {
			t.Errorf("Quantile(1..10, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("Quantile(nil) is not NaN")
	}
}

func TestPercentiles(t *testing.T) {
	xs := make([]float64, 0, 10001)
	for i := 10000; i >= 0; i-- { // reversed: Percentiles must sort
		xs = append(xs, float64(i))
	}
	got := Percentiles(xs, StandardPercentiles)
	want := []float64{5000, 9000, 9500, 9900, 9990, 9999}
	for i, p := range got {
		if !near(p.Value, want[i], 1e-6) || p.P != StandardPercentiles[i] {
			t.Errorf("p%v = %v, want %v", p.P, p.Value, want[i])
		}
	}
}

func TestGeoMean(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{1, 4}, 2}, {[]float64{2, 8, 4}, 4}, {[]float64{1, 0}, math.NaN()}, {nil, math.NaN()},
	}
	for _, tt := range tests {
		if got := GeoMean(tt.xs); !near(got, tt.want, 1e-12) {
			t.Errorf("GeoMean(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestFindOutliers(t *testing.T) {
	tests := []struct {
		name      string
		xs        []float64
		idx       []int
		low, high int
		first     bool
	}{
		{"none", []float64{10, 11, 10.5, 9.8, 10.2}, nil, 0, 0, false},
		{"high", []float64{10, 11, 10.5, 9.8, 10.2, 30}, []int{5}, 0, 1, false},
		{"low", []float64{10, 11, 10.5, 9.8, 10.2, 1}, []int{5}, 1, 0, false},
		{"first slowest", []float64{50, 10, 11, 10.5, 9.8, 10.2}, []int{0}, 0, 1, true},
		{"first high but not slowest", []float64{50, 10, 11, 10.5, 9.8, 60}, []int{0, 5}, 0, 2, false},
		{"all equal", []float64{7, 7, 7, 7}, nil, 0, 0, false},
		{"mad zero fallback", []float64{7, 7, 7, 7, 7, 100}, []int{5}, 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := FindOutliers(tt.xs)
			if !slices.Equal(o.Indices, tt.idx) || o.Low != tt.low || o.High != tt.high || o.FirstSlowest != tt.first {
				t.Errorf("FindOutliers(%v) = %+v, want idx %v low %d high %d first %v", tt.xs, o, tt.idx, tt.low, tt.high, tt.first)
			}
		})
	}
}

func TestModifiedZScores(t *testing.T) {
	// median 3, deviations 2 1 0 1 2 → MAD 1: z = 0.6745·(x−3).
	z := ModifiedZScores([]float64{1, 2, 3, 4, 5})
	want := []float64{-1.349, -0.6745, 0, 0.6745, 1.349}
	for i := range z {
		if !near(z[i], want[i], 1e-9) {
			t.Errorf("z[%d] = %v, want %v", i, z[i], want[i])
		}
	}
}

func TestRatioOf(t *testing.T) {
	r := RatioOf(Description{Mean: 40, Stddev: 4}, Description{Mean: 20, Stddev: 2})
	if !near(r.Value, 2, 1e-12) || !near(r.Stddev, 2*math.Sqrt(0.02), 1e-12) {
		t.Errorf("RatioOf = %+v, want 2 ± %v", r, 2*math.Sqrt(0.02))
	}
}

func TestBins(t *testing.T) {
	tests := []struct {
		name   string
		xs     []float64
		n      int
		counts []int
		lo, hi float64
	}{
		{"even", []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, []int{2, 2, 2, 2, 3}, 0, 10},
		{"equal values", []float64{3, 3, 3}, 4, []int{3}, 3, 3},
		{"sturges", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 0, []int{2, 2, 2, 2}, 1, 8},
		{"empty", nil, 3, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Bins(tt.xs, tt.n)
			if !slices.Equal(h.Counts, tt.counts) || h.Lo != tt.lo || h.Hi != tt.hi {
				t.Errorf("Bins = %+v, want counts %v lo %v hi %v", h, tt.counts, tt.lo, tt.hi)
			}
		})
	}
}

func TestCompareTable(t *testing.T) {
	tests := []struct {
		name     string
		old, new []float64
		sig      bool
		delta    string
		p        float64
	}{
		// Complete separation with n=5+5: the exact two-sided p is 2/C(10,5).
		{"separated", []float64{1, 2, 3, 4, 5}, []float64{11, 12, 13, 14, 15}, true, "+333.33%", 2.0 / 252},
		{"identical", []float64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 4, 5}, false, "~", 1},
		{"too few", []float64{1, 2}, []float64{3, 4}, false, "~", 1.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.old, tt.new, DefaultAlpha, DefaultConfidence)
			if c.Significant != tt.sig || c.Delta() != tt.delta || !near(c.Test.P, tt.p, 1e-9) {
				t.Errorf("Compare = sig %v delta %q p %v, want %v %q %v", c.Significant, c.Delta(), c.Test.P, tt.sig, tt.delta, tt.p)
			}
		})
	}
}

// sample draws n log-normal values (benchmark timings are skewed) around
// center, from r.
func sample(r *rand.Rand, n int, center float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = center * math.Exp(0.05*r.NormFloat64())
	}
	return xs
}

// TestUTestProperties checks properties any correct U test has, on
// synthetic samples drawn with fixed seeds.
func TestUTestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n1, n2 := 5+r.IntN(10), 5+r.IntN(10)
		a, b := sample(r, n1, 100), sample(r, n2, 100+10*r.Float64())
		ab := Compare(a, b, DefaultAlpha, DefaultConfidence)
		ba := Compare(b, a, DefaultAlpha, DefaultConfidence)
		// Symmetric: swapping the samples keeps the p value.
		if !near(ab.Test.P, ba.Test.P, 1e-12) {
			t.Fatalf("trial %d: p(a,b)=%v p(b,a)=%v", trial, ab.Test.P, ba.Test.P)
		}
		// Rank-based: a monotone transform of both samples keeps p.
		la, lb := apply(a, math.Log), apply(b, math.Log)
		if lt := Compare(la, lb, DefaultAlpha, DefaultConfidence); !near(lt.Test.P, ab.Test.P, 1e-12) {
			t.Fatalf("trial %d: p changed under log: %v vs %v", trial, lt.Test.P, ab.Test.P)
		}
		// Valid probability, and sizes reported.
		if ab.Test.P <= 0 || ab.Test.P > 1 || ab.Test.N1 != n1 || ab.Test.N2 != n2 {
			t.Fatalf("trial %d: p=%v n=%d+%d, want 0<p≤1 and n=%d+%d", trial, ab.Test.P, ab.Test.N1, ab.Test.N2, n1, n2)
		}
		// Fully separated samples are always significant at n ≥ 5 each.
		shifted := apply(a, func(x float64) float64 { return x + 1000 })
		if c := Compare(a, shifted, DefaultAlpha, DefaultConfidence); !c.Significant || c.Delta() == "~" {
			t.Fatalf("trial %d: separated samples not significant: p=%v", trial, c.Test.P)
		}
		// The confidence interval brackets the median.
		if ab.Old.Lo > ab.Old.Center || ab.Old.Hi < ab.Old.Center {
			t.Fatalf("trial %d: CI [%v, %v] misses median %v", trial, ab.Old.Lo, ab.Old.Hi, ab.Old.Center)
		}
	}
}

// TestUTestFalsePositiveRate checks the test is calibrated: samples from one
// distribution are called different at about rate alpha, and a real 10%
// shift is found nearly always.
func TestUTestFalsePositiveRate(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	const trials = 500
	var falsePos, truePos int
	for range trials {
		a, b := sample(r, 10, 100), sample(r, 10, 100)
		if Compare(a, b, DefaultAlpha, DefaultConfidence).Significant {
			falsePos++
		}
		c := sample(r, 10, 110)
		if Compare(a, c, DefaultAlpha, DefaultConfidence).Significant {
			truePos++
		}
	}
	if rate := float64(falsePos) / trials; rate > 0.08 {
		t.Errorf("false positive rate %.3f, want ≤ 0.08 at alpha 0.05", rate)
	}
	if rate := float64(truePos) / trials; rate < 0.9 {
		t.Errorf("power %.3f for a 10%% shift with σ=5%%, want ≥ 0.9", rate)
	}
}

func apply(xs []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func TestMedianRatio(t *testing.T) {
	// Medians 20 and 40; MADs 1 and 2 → σ 1.4826 and 2.9652.
	den := []float64{19, 20, 21, 20, 95}
	num := []float64{38, 40, 42, 40, 190}
	r := MedianRatio(num, den)
	want := 2 * math.Hypot(1.4826/20, 2.9652/40)
	if !near(r.Value, 2, 1e-12) || !near(r.Stddev, want, 1e-9) {
		t.Errorf("MedianRatio = %+v, want 2 ± %v", r, want)
	}
	if s := RobustSigma([]float64{1, 2, 3, 4, 100}); !near(s, 1.4826, 1e-12) {
		t.Errorf("RobustSigma = %v, want 1.4826", s)
	}
}
