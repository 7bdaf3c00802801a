package engine

import (
	"math"
	"time"
)

// RampAt returns the value of a ramp at time t: it starts at start and moves
// linearly to each stage's target over the stage's duration (k6's stages).
func RampAt(start float64, stages []Stage, t time.Duration) float64 {
	from := start
	for _, s := range stages {
		if t < s.Duration {
			frac := float64(t) / float64(s.Duration)
			return from + (s.Target-from)*frac
		}
		t -= s.Duration
		from = s.Target
	}
	return from
}

// Pacer gives the due time of the i-th arrival (0-based), measured from the
// start of the scenario, and false when the schedule has ended before it.
// It is a pure function of i.
type Pacer interface {
	Due(i int64) (time.Duration, bool)
	// Count is the number of arrivals due before t.
	Count(t time.Duration) int64
}

// RatePacer is a piecewise-linear arrival rate: it starts at Start
// arrivals per TimeUnit and follows Stages. A constant rate is one stage
// whose target equals Start.
type RatePacer struct {
	Start    float64
	TimeUnit time.Duration
	Stages   []Stage
}

// NewConstantPacer returns the pacer of a constant-arrival-rate executor.
func NewConstantPacer(rate float64, unit, d time.Duration) RatePacer {
	return RatePacer{Start: rate, TimeUnit: unit, Stages: []Stage{{Duration: d, Target: rate}}}
}

func (p RatePacer) perSecond(r float64) float64 {
	unit := p.TimeUnit
	if unit <= 0 {
		unit = time.Second
	}
	return r / unit.Seconds()
}

// Count is the integral of the rate from 0 to t, floored, plus one for the
// arrival at time 0 when the rate starts above zero: arrival i is due when
// the integral reaches i.
func (p RatePacer) Count(t time.Duration) int64 {
	area := 0.0
	from := p.perSecond(p.Start)
	left := t.Seconds()
	for _, s := range p.Stages {
		to := p.perSecond(s.Target)
		d := s.Duration.Seconds()
		if left <= d {
			r := from + (to-from)*left/d
			area += (from + r) / 2 * left
			left = 0
			break
		}
		area += (from + to) / 2 * d
		left -= d
		from = to
	}
	if left > 0 { // past the last stage: nothing more is due
		left = 0
	}
	// arrivals due strictly before t: those with index < area (index i is due at area == i)
	n := math.Ceil(area - 1e-9)
	if n < 0 {
		return 0
	}
	return int64(n)
}

// Due inverts the integral of the rate: the time at which it reaches i.
func (p RatePacer) Due(i int64) (time.Duration, bool) {
	target := float64(i)
	from := p.perSecond(p.Start)
	elapsed := 0.0
	for _, s := range p.Stages {
		to := p.perSecond(s.Target)
		d := s.Duration.Seconds()
		area := (from + to) / 2 * d
		if target < area-1e-12 {
			// solve from*x + (to-from)/(2d)*x² = target for x in [0, d)
			a := (to - from) / (2 * d)
			var x float64
			if math.Abs(a) < 1e-15 {
				x = target / from
			} else {
				x = (-from + math.Sqrt(from*from+4*a*target)) / (2 * a)
			}
			return time.Duration((elapsed + x) * float64(time.Second)), true
		}
		target -= area
		elapsed += d
		from = to
	}
	return 0, false
}
