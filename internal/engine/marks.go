package engine

import (
	"slices"
	"time"
)

// StageMarks are the offsets from the start of the run at which the load
// changes course: the end of each stage of a ramping scenario and the start
// of a delayed scenario. Charts mark them; they are sorted, without repeats.
func StageMarks(scs []*Scenario) []time.Duration {
	marks := []time.Duration{}
	for _, sc := range scs {
		if sc.StartTime > 0 {
			marks = append(marks, sc.StartTime)
		}
		var stages []Stage
		switch e := sc.Executor.(type) {
		case RampingVUs:
			stages = e.Stages
		case RampingArrivalRate:
			stages = e.Stages
		}
		at := sc.StartTime
		for _, st := range stages {
			at += st.Duration
			marks = append(marks, at)
		}
	}
	slices.Sort(marks)
	return slices.Compact(marks)
}

// StageMarks are the run's StageMarks, known once Run has started.
func (c *Control) StageMarks() []time.Duration {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.marks
}
