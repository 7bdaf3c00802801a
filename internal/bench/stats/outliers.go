package stats

import "math"

// OutlierThreshold is the modified z-score beyond which a value is an
// outlier, as recommended by Iglewicz and Hoaglin and used by hyperfine.
const OutlierThreshold = 3.5

// Outliers describes the outliers of a sample in run order.
type Outliers struct {
	// Indices are the positions (in run order) of the outliers.
	Indices []int
	// Low and High count outliers below and above the median.
	Low, High int
	// FirstSlowest is set when the first run is a high outlier and the
	// slowest run of all: typically a cold cache or a lazy initialization
	// that the warm-up runs did not cover.
	FirstSlowest bool
}

// ModifiedZScores returns, for each value, 0.6745·(x − median)/MAD. When the
// median absolute deviation is 0 (more than half the values are equal) it
// falls back to the mean absolute deviation scaled by 1.253314; when that is
// 0 too, every score is 0.
func ModifiedZScores(xs []float64) []float64 {
	if len(xs) == 0 {
		return nil
	}
	med := Quantile(Sorted(xs), 0.5)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	mad := Quantile(Sorted(dev), 0.5)
	scale := mad / 0.6745
	if mad == 0 {
		scale = 1.253314 * Mean(dev)
	}
	z := make([]float64, len(xs))
	if scale == 0 {
		return z
	}
	for i, x := range xs {
		z[i] = (x - med) / scale
	}
	return z
}

// FindOutliers flags the values of xs (in run order) whose modified z-score
// exceeds OutlierThreshold in absolute value.
func FindOutliers(xs []float64) Outliers {
	var o Outliers
	z := ModifiedZScores(xs)
	for i, zi := range z {
		switch {
		case zi > OutlierThreshold:
			o.High++
		case zi < -OutlierThreshold:
			o.Low++
		default:
			continue
		}
		o.Indices = append(o.Indices, i)
	}
	if len(xs) > 1 && z[0] > OutlierThreshold {
		o.FirstSlowest = true
		for _, x := range xs[1:] {
			if x >= xs[0] {
				o.FirstSlowest = false
			}
		}
	}
	return o
}
