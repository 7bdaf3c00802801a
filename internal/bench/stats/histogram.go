package stats

import "math"

// Histogram is a sample binned into equal-width bins from Lo to Hi.
type Histogram struct {
	Lo, Hi float64
	Counts []int
}

// Width is the width of one bin.
func (h Histogram) Width() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return (h.Hi - h.Lo) / float64(len(h.Counts))
}

// Bin returns the bounds of bin i.
func (h Histogram) Bin(i int) (lo, hi float64) {
	w := h.Width()
	return h.Lo + float64(i)*w, h.Lo + float64(i+1)*w
}

// Bins splits xs into n equal-width bins between its minimum and maximum;
// the maximum falls in the last bin. n ≤ 0 picks Sturges' rule, capped to
// [1, 40]. A sample whose values are all equal gives one bin.
func Bins(xs []float64, n int) Histogram {
	if len(xs) == 0 {
		return Histogram{}
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if n <= 0 {
		n = int(math.Ceil(math.Log2(float64(len(xs))))) + 1
		n = max(1, min(n, 40))
	}
	if lo == hi {
		return Histogram{Lo: lo, Hi: hi, Counts: []int{len(xs)}}
	}
	h := Histogram{Lo: lo, Hi: hi, Counts: make([]int, n)}
	w := (hi - lo) / float64(n)
	for _, x := range xs {
		i := int((x - lo) / w)
		h.Counts[min(max(i, 0), n-1)]++
	}
	return h
}
