package cluster

import (
	"math"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

func TestSegmentPartTable(t *testing.T) {
	tests := []struct {
		x    int64
		n    int
		want []int64
	}{
		{10, 3, []int64{3, 3, 4}},
		{1, 3, []int64{0, 0, 1}},
		{2, 3, []int64{0, 1, 1}},
		{3000, 3, []int64{1000, 1000, 1000}},
		{7, 1, []int64{7}},
		{0, 4, []int64{0, 0, 0, 0}},
		{5, 5, []int64{1, 1, 1, 1, 1}},
		{100, 7, []int64{14, 14, 14, 15, 14, 14, 15}},
	}
	for _, tt := range tests {
		for i := range tt.n {
			if got := Whole.Split(i, tt.n).Part(tt.x); got != tt.want[i] {
				t.Errorf("Part(%d) of %d/%d = %d, want %d", tt.x, i, tt.n, got, tt.want[i])
			}
		}
	}
}

// TestSegmentPartsSumExactly checks the defining property for many worker
// counts, including nested splits (a lost worker's segment split again).
func TestSegmentPartsSumExactly(t *testing.T) {
	for _, x := range []int64{0, 1, 2, 3, 10, 99, 1000, 12345, 1 << 40} {
		for n := 1; n <= 40; n++ {
			var sum int64
			for i := range n {
				seg := Whole.Split(i, n)
				if i == n/2 { // nested: this part split again among 3
					for j := range 3 {
						sum += seg.Split(j, 3).Part(x)
					}
					continue
				}
				sum += seg.Part(x)
			}
			if sum != x {
				t.Fatalf("x=%d n=%d: parts sum to %d", x, n, sum)
			}
		}
	}
}

func TestSegmentSplitReduces(t *testing.T) {
	s := Whole.Split(1, 2).Split(0, 2)
	if s != (Segment{2, 3, 4}) {
		t.Fatalf("1/2 then 0/2 = %v, want 2/4–3/4", s)
	}
	if !s.Valid() || (Segment{1, 1, 2}).Valid() {
		t.Fatal("Valid is wrong")
	}
}

// split applies n-way segments to e and returns the parts that got work.
func split(e engine.Executor, n int) []engine.Executor {
	var out []engine.Executor
	for i := range n {
		if p, ok := Whole.Split(i, n).Apply(e); ok {
			out = append(out, p)
		}
	}
	return out
}

func TestApplySumsToWhole(t *testing.T) {
	for n := 1; n <= 12; n++ {
		var vus, iters, pre int
		var rate float64
		for _, p := range split(engine.ConstantVUs{VUs: 10, Duration: time.Second}, n) {
			vus += p.(engine.ConstantVUs).VUs
		}
		for _, p := range split(engine.SharedIterations{VUs: 5, Iterations: 17}, n) {
			s := p.(engine.SharedIterations)
			if s.VUs == 0 || s.Iterations == 0 {
				t.Fatalf("n=%d: empty part %+v was not left out", n, s)
			}
			iters += s.Iterations
		}
		for _, p := range split(engine.ConstantArrivalRate{Rate: 100.5, Duration: time.Second, PreAllocatedVUs: 10, MaxVUs: 20}, n) {
			c := p.(engine.ConstantArrivalRate)
			rate += c.Rate
			pre += c.PreAllocatedVUs
			if c.PeakVUs() < 1 {
				t.Fatalf("n=%d: a part with arrivals has no VU: %+v", n, c)
			}
		}
		if vus != 10 || iters != 17 || pre != 10 || math.Abs(rate-100.5) > 1e-9 {
			t.Errorf("n=%d: vus %d iterations %d preallocated %d rate %v; want 10, 17, 10, 100.5", n, vus, iters, pre, rate)
		}
	}
}

func TestApplyPerVUAndRamps(t *testing.T) {
	parts := split(engine.PerVUIterations{VUs: 7, Iterations: 3}, 3)
	total := 0
	for _, p := range parts {
		e := p.(engine.PerVUIterations)
		total += e.VUs * e.Iterations
	}
	if total != 21 {
		t.Errorf("per-vu-iterations: %d iterations in total, want 21", total)
	}
	ramp := engine.RampingVUs{StartVUs: 2, Stages: []engine.Stage{{Duration: time.Second, Target: 10}, {Duration: time.Second, Target: 0}}}
	var start, peak float64
	for _, p := range split(ramp, 4) {
		e := p.(engine.RampingVUs)
		start += float64(e.StartVUs)
		peak += e.Stages[0].Target
	}
	if start != 2 || peak != 10 {
		t.Errorf("ramping-vus: start %v, first target %v; want 2 and 10", start, peak)
	}
	rr := engine.RampingArrivalRate{StartRate: 0, Stages: []engine.Stage{{Duration: time.Second, Target: 3000}}, MaxVUs: 10}
	var target float64
	for _, p := range split(rr, 3) {
		target += p.(engine.RampingArrivalRate).Stages[0].Target
	}
	if target != 3000 {
		t.Errorf("ramping-arrival-rate: targets sum to %v, want 3000", target)
	}
}

func TestApplyShape(t *testing.T) {
	sh := engine.Shape{MaxUsers: 10, Tick: func(time.Duration) engine.ShapeTick { return engine.ShapeTick{Users: 10, SpawnRate: 3} }}
	users, spawn := 0, 0.0
	for _, p := range split(sh, 3) {
		tk := p.(engine.Shape).Tick(0)
		users += tk.Users
		spawn += tk.SpawnRate
	}
	if users != 10 || math.Abs(spawn-3) > 1e-9 {
		t.Errorf("shape: %d users at %v/s, want 10 at 3/s", users, spawn)
	}
}

func TestShift(t *testing.T) {
	ramp := engine.RampingVUs{StartVUs: 0, Stages: []engine.Stage{{Duration: 10 * time.Second, Target: 10}, {Duration: 10 * time.Second, Target: 10}}}
	tests := []struct {
		name    string
		in      engine.Executor
		elapsed time.Duration
		done    int64
		want    engine.Executor
		ok      bool
	}{
		{"constant", engine.ConstantVUs{VUs: 3, Duration: 10 * time.Second}, 4 * time.Second, 0, engine.ConstantVUs{VUs: 3, Duration: 6 * time.Second}, true},
		{"constant over", engine.ConstantVUs{VUs: 3, Duration: 10 * time.Second}, 11 * time.Second, 0, engine.ConstantVUs{VUs: 3, Duration: -time.Second}, false},
		{"ramp", ramp, 5 * time.Second, 0, engine.RampingVUs{StartVUs: 5, Stages: []engine.Stage{{Duration: 5 * time.Second, Target: 10}, {Duration: 10 * time.Second, Target: 10}}}, true},
		{"shared", engine.SharedIterations{VUs: 2, Iterations: 10, MaxDuration: time.Minute}, time.Second, 4, engine.SharedIterations{VUs: 2, Iterations: 6, MaxDuration: 59 * time.Second}, true},
		{"per-vu", engine.PerVUIterations{VUs: 2, Iterations: 5, MaxDuration: time.Minute}, time.Second, 4, engine.SharedIterations{VUs: 2, Iterations: 6, MaxDuration: 59 * time.Second}, true},
		{"rate", engine.ConstantArrivalRate{Rate: 10, Duration: 3 * time.Second, MaxVUs: 1}, time.Second, 0, engine.ConstantArrivalRate{Rate: 10, Duration: 2 * time.Second, MaxVUs: 1}, true},
	}
	for _, tt := range tests {
		got, ok := Shift(tt.in, tt.elapsed, tt.done)
		if ok != tt.ok || (ok && !equalExec(got, tt.want)) {
			t.Errorf("%s: Shift = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func equalExec(a, b engine.Executor) bool {
	ra, ok1 := a.(engine.RampingVUs)
	rb, ok2 := b.(engine.RampingVUs)
	if ok1 && ok2 {
		if ra.StartVUs != rb.StartVUs || len(ra.Stages) != len(rb.Stages) {
			return false
		}
		for i := range ra.Stages {
			if ra.Stages[i] != rb.Stages[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestPlanScenarioStartTime(t *testing.T) {
	later := &engine.Scenario{Name: "later", StartTime: 10 * time.Second, Executor: engine.ConstantVUs{VUs: 4, Duration: 5 * time.Second}}
	now := &engine.Scenario{Name: "now", Executor: engine.ConstantVUs{VUs: 4, Duration: 5 * time.Second}}
	got := Plan([]*engine.Scenario{later, now}, []Step{{Seg: Whole.Split(0, 2)}, {After: 6 * time.Second, Seg: Whole.Split(1, 2)}})
	if len(got) != 1 || got[0].Name != "later" || got[0].StartTime != 4*time.Second || got[0].Executor.(engine.ConstantVUs).VUs != 1 {
		t.Fatalf("Plan = %+v; want only 'later', starting in 4s with 1 VU", got)
	}
	if later.StartTime != 10*time.Second || later.Executor.(engine.ConstantVUs).VUs != 4 {
		t.Fatal("Plan modified its input")
	}
}
