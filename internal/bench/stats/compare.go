package stats

import (
	"math"

	"golang.org/x/perf/benchmath"
)

// DefaultConfidence is the confidence level of reported intervals.
const DefaultConfidence = 0.95

// DefaultAlpha is the significance level below which two samples are
// reported as different.
const DefaultAlpha = 0.05

// Summary is a sample's center (the median) with its confidence interval,
// as benchmath computes it under no distributional assumption.
type Summary = benchmath.Summary

// Summarize returns the median of xs with its confidence interval at the
// given confidence level (0.95 for 95%).
func Summarize(xs []float64, confidence float64) Summary {
	s := benchmath.NewSample(Sorted(xs), &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(s, confidence)
}

// Comparison is the result of comparing a new sample against an old one.
type Comparison struct {
	Old, New Summary
	// Test holds the Mann-Whitney U test's p value, the sample sizes and
	// alpha, and its warnings (too few samples).
	Test benchmath.Comparison
	// Significant reports P ≤ alpha: the samples differ.
	Significant bool
	// Change is New.Center/Old.Center − 1 (0.05 for +5%); NaN when the
	// old center is 0.
	Change float64
}

// Delta renders the change as benchstat does: "~" when not significant,
// otherwise a signed percentage like "+4.20%".
func (c Comparison) Delta() string {
	return c.Test.FormatDelta(c.Old.Center, c.New.Center)
}

// Compare compares two samples with the Mann-Whitney U test (via
// benchmath.AssumeNothing) and summarizes each by its median and
// confidence interval.
func Compare(old, new []float64, alpha, confidence float64) Comparison {
	th := benchmath.Thresholds{CompareAlpha: alpha}
	so := benchmath.NewSample(Sorted(old), &th)
	sn := benchmath.NewSample(Sorted(new), &th)
	c := Comparison{
		Old:  benchmath.AssumeNothing.Summary(so, confidence),
		New:  benchmath.AssumeNothing.Summary(sn, confidence),
		Test: benchmath.AssumeNothing.Compare(so, sn),
	}
	c.Significant = c.Test.P <= alpha
	c.Change = math.NaN()
	if c.Old.Center != 0 {
		c.Change = c.New.Center/c.Old.Center - 1
	}
	return c
}

// Ratio is a ratio of two means with its propagated standard deviation.
type Ratio struct {
	Value  float64
	Stddev float64
}

// RatioOf returns num/den for two samples described by their mean and
// standard deviation, with the uncertainty from first-order error
// propagation: σ_r = r·√((σn/n)² + (σd/d)²), as hyperfine reports it.
func RatioOf(num, den Description) Ratio {
	r := num.Mean / den.Mean
	rel := math.Hypot(num.Stddev/num.Mean, den.Stddev/den.Mean)
	return Ratio{Value: r, Stddev: math.Abs(r) * rel}
}

// RobustSigma estimates the standard deviation from the median absolute
// deviation (1.4826·MAD), which a few slow runs on a busy machine cannot
// inflate the way they inflate the sample standard deviation.
func RobustSigma(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	med := Quantile(Sorted(xs), 0.5)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	return 1.4826 * Quantile(Sorted(dev), 0.5)
}

// MedianRatio returns median(num)/median(den) with the uncertainty
// propagated from each sample's robust sigma. Medians keep the ratio of
// two commands honest when stray slow runs hit both: means shift both by
// the same absolute amount and pull the ratio towards 1.
func MedianRatio(num, den []float64) Ratio {
	n := Description{Mean: Quantile(Sorted(num), 0.5), Stddev: RobustSigma(num)}
	d := Description{Mean: Quantile(Sorted(den), 0.5), Stddev: RobustSigma(den)}
	return RatioOf(n, d)
}
