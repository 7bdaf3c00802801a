package cluster

import (
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// Step is one link in the derivation of what a worker runs: first what was
// left after After (with Done iterations already completed, per scenario),
// then the segment Seg of that. A worker's first assignment is one step,
// {Seg: i/n}; a share of a lost worker's assignment is that assignment's
// steps plus one, {After: how long it ran, Seg: j/m of the survivors}.
type Step struct {
	After time.Duration    `json:",omitempty"`
	Done  map[string]int64 `json:",omitempty"`
	Seg   Segment
}

// Plan returns new scenarios for the steps, leaving out the scenarios of
// which nothing is left. The input scenarios are not modified.
func Plan(scens []*engine.Scenario, steps []Step) []*engine.Scenario {
	var out []*engine.Scenario
	for _, sc := range scens {
		c, ok := planOne(*sc, steps)
		if ok {
			out = append(out, &c)
		}
	}
	return out
}

func planOne(sc engine.Scenario, steps []Step) (engine.Scenario, bool) {
	ok := true
	for _, st := range steps {
		if st.After > 0 {
			if sc, ok = ShiftScenario(sc, st.After, st.Done[sc.Name]); !ok {
				return sc, false
			}
		}
		if sc.Executor, ok = st.Seg.Apply(sc.Executor); !ok {
			return sc, false
		}
	}
	return sc, true
}
