package cluster

import (
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// Segment is the share [Lo/Den, Hi/Den) of a test that one worker runs.
// The whole test is {0, 1, 1}.
type Segment struct {
	Lo, Hi, Den int64
}

// Whole is the segment of the entire test.
var Whole = Segment{0, 1, 1}

// rateScale is the resolution at which arrival rates are divided: a rate is
// split in thousandths of an arrival per time unit, so the parts sum to the
// whole exactly for rates given with up to three decimals.
const rateScale = 1000

// Split returns the i-th of n equal sub-segments of s.
func (s Segment) Split(i, n int) Segment {
	w := s.Hi - s.Lo
	out := Segment{s.Lo*int64(n) + int64(i)*w, s.Lo*int64(n) + int64(i+1)*w, s.Den * int64(n)}
	return out.reduced()
}

func (s Segment) reduced() Segment {
	g := gcd(gcd(s.Lo, s.Hi), s.Den)
	if g <= 1 {
		return s
	}
	return Segment{s.Lo / g, s.Hi / g, s.Den / g}
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Valid reports whether s is a non-empty interval inside [0, 1].
func (s Segment) Valid() bool {
	return s.Den > 0 && s.Lo >= 0 && s.Lo < s.Hi && s.Hi <= s.Den
}

func (s Segment) String() string {
	return fmt.Sprintf("%d/%d–%d/%d", s.Lo, s.Den, s.Hi, s.Den)
}

// Part is this segment's share of the integer quantity x ≥ 0:
// floor(Hi·x/Den) − floor(Lo·x/Den). The parts of segments that partition
// [0, 1) sum to x exactly.
func (s Segment) Part(x int64) int64 {
	if x <= 0 {
		return 0
	}
	return mulDiv(s.Hi, x, s.Den) - mulDiv(s.Lo, x, s.Den)
}

// PartRate is Part for a rate, divided in thousandths.
func (s Segment) PartRate(r float64) float64 {
	return float64(s.Part(int64(math.Round(r*rateScale)))) / rateScale
}

// mulDiv is floor(a·b/c) for non-negative a ≤ c, without overflow.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// Apply returns the executor for this segment of e, and false when the
// segment gets nothing of it (fewer VUs or arrivals than workers).
// Preallocated and maximum VUs of arrival-rate executors are divided too,
// but a segment that gets arrivals always gets at least one VU.
func (s Segment) Apply(e engine.Executor) (engine.Executor, bool) {
	switch e := e.(type) {
	case engine.ConstantVUs:
		e.VUs = int(s.Part(int64(e.VUs)))
		return e, e.VUs > 0
	case engine.RampingVUs:
		e.StartVUs = int(s.Part(int64(e.StartVUs)))
		e.Stages = s.stages(e.Stages, s.partTarget)
		return e, e.PeakVUs() > 0
	case engine.PerVUIterations:
		e.VUs = int(s.Part(int64(e.VUs)))
		return e, e.VUs > 0
	case engine.SharedIterations:
		return s.shared(e)
	case engine.ConstantArrivalRate:
		e.Rate = s.PartRate(e.Rate)
		e.PreAllocatedVUs, e.MaxVUs = s.vuPool(e.PreAllocatedVUs, e.MaxVUs)
		return e, e.Rate > 0
	case engine.RampingArrivalRate:
		e.StartRate = s.PartRate(e.StartRate)
		e.Stages = s.stages(e.Stages, s.PartRate)
		e.PreAllocatedVUs, e.MaxVUs = s.vuPool(e.PreAllocatedVUs, e.MaxVUs)
		return e, anyRate(e)
	case engine.Shape:
		return s.shape(e), true
	}
	return e, s == Whole
}

func (s Segment) partTarget(t float64) float64 {
	return float64(s.Part(int64(math.Round(t))))
}

func (s Segment) stages(in []engine.Stage, part func(float64) float64) []engine.Stage {
	out := make([]engine.Stage, len(in))
	for i, st := range in {
		out[i] = engine.Stage{Duration: st.Duration, Target: part(st.Target)}
	}
	return out
}

// shared divides the iterations in proportion to the VUs each segment got,
// along the same cumulative boundaries, so a segment without VUs gets no
// iterations and the parts still sum to the whole.
func (s Segment) shared(e engine.SharedIterations) (engine.Executor, bool) {
	v := int64(e.VUs)
	lo, hi := mulDiv(s.Lo, v, s.Den), mulDiv(s.Hi, v, s.Den)
	if hi == lo || v == 0 {
		return e, false
	}
	it := int64(e.Iterations)
	e.VUs = int(hi - lo)
	e.Iterations = int(mulDiv(hi, it, v) - mulDiv(lo, it, v))
	return e, e.Iterations > 0
}

func (s Segment) vuPool(pre, maxVUs int) (int, int) {
	p := int(s.Part(int64(pre)))
	m := int(s.Part(int64(maxVUs)))
	return p, max(m, p, 1)
}

func anyRate(e engine.RampingArrivalRate) bool {
	if e.StartRate > 0 {
		return true
	}
	for _, st := range e.Stages {
		if st.Target > 0 {
			return true
		}
	}
	return false
}

// shape divides the users a load shape asks for, second by second.
func (s Segment) shape(e engine.Shape) engine.Shape {
	tick := e.Tick
	e.Tick = func(el time.Duration) engine.ShapeTick {
		t := tick(el)
		t.Users = int(s.Part(int64(t.Users)))
		t.SpawnRate = s.PartRate(t.SpawnRate)
		return t
	}
	e.MaxUsers = max(int(s.Part(int64(e.MaxUsers))), 1)
	return e
}
