package cluster

import (
	"math"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// Shift returns what is left of executor e after it has run for elapsed and
// completed done iterations: the rest of a duration, the remaining stages
// of a ramp (starting from where the ramp stood), the iterations not yet
// done. It returns false when nothing is left. A lost worker's segment is
// handed to the survivors through Shift.
func Shift(e engine.Executor, elapsed time.Duration, done int64) (engine.Executor, bool) {
	if elapsed <= 0 {
		return e, true
	}
	switch e := e.(type) {
	case engine.ConstantVUs:
		e.Duration -= elapsed
		return e, e.Duration > 0
	case engine.RampingVUs:
		start := engine.RampAt(float64(e.StartVUs), e.Stages, elapsed)
		e.StartVUs = int(math.Round(start))
		e.Stages = cutStages(e.Stages, elapsed)
		return e, len(e.Stages) > 0
	case engine.PerVUIterations:
		left := int64(e.VUs)*int64(e.Iterations) - done
		md := orDefault(e.MaxDuration, 10*time.Minute) - elapsed
		return engine.SharedIterations{VUs: e.VUs, Iterations: int(left), MaxDuration: md}, left > 0 && md > 0
	case engine.SharedIterations:
		e.Iterations -= int(done)
		e.MaxDuration = orDefault(e.MaxDuration, 10*time.Minute) - elapsed
		return e, e.Iterations > 0 && e.MaxDuration > 0
	case engine.ConstantArrivalRate:
		e.Duration -= elapsed
		return e, e.Duration > 0
	case engine.RampingArrivalRate:
		e.StartRate = engine.RampAt(e.StartRate, e.Stages, elapsed)
		e.Stages = cutStages(e.Stages, elapsed)
		return e, len(e.Stages) > 0
	case engine.Shape:
		tick := e.Tick
		e.Tick = func(el time.Duration) engine.ShapeTick { return tick(el + elapsed) }
		e.Limit = orDefault(e.Limit, 24*time.Hour) - elapsed
		return e, e.Limit > 0
	}
	return e, false
}

// ShiftScenario applies Shift to a scenario that started at its StartTime:
// one that has not started yet only starts elapsed sooner.
func ShiftScenario(sc engine.Scenario, elapsed time.Duration, done int64) (engine.Scenario, bool) {
	if sc.StartTime >= elapsed {
		sc.StartTime -= elapsed
		return sc, true
	}
	ran := elapsed - sc.StartTime
	sc.StartTime = 0
	e, ok := Shift(sc.Executor, ran, done)
	sc.Executor = e
	return sc, ok
}

// cutStages drops the part of stages before t; the stage running at t keeps
// its target and the time it had left.
func cutStages(st []engine.Stage, t time.Duration) []engine.Stage {
	var out []engine.Stage
	for _, s := range st {
		switch {
		case t >= s.Duration:
			t -= s.Duration
		case t > 0:
			out = append(out, engine.Stage{Duration: s.Duration - t, Target: s.Target})
			t = 0
		default:
			out = append(out, s)
		}
	}
	return out
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
