// Package vu holds the state of one virtual user as the protocol clients
// see it: where it records metrics, the tags its samples carry, and, for
// open-model iterations, the time the iteration was due.
//
// It sits below the engine and the protocol clients so that both can use
// it without importing each other.
package vu

import (
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// State is one virtual user's context. It is owned by that user's goroutine.
type State struct {
	ID        int // 1-based across the run, k6's __VU
	IDInScen  int // 0-based within its scenario
	Scenario  string
	Registry  *metrics.Registry
	Shard     *metrics.Shard
	Tags      *metrics.TagSet // scenario and run tags; protocol clients add their own
	Iteration int64           // iterations this VU started, 0-based for the current one

	due        time.Time
	duePending bool
	started    time.Time
}

// New returns the state of VU id in a scenario.
func New(reg *metrics.Registry, id, idInScenario int, scenario string, tags *metrics.TagSet) *State {
	return &State{
		ID: id, IDInScen: idInScenario, Scenario: scenario,
		Registry: reg, Shard: reg.Shard(id), Tags: tags,
	}
}

// BeginIteration marks the start, at started, of an iteration that was
// due at due (zero for closed-model executors, where an iteration is due
// when it starts).
func (s *State) BeginIteration(due, started time.Time) {
	s.due = due
	s.duePending = !due.IsZero()
	s.started = started
}

// Started is when the current iteration began (zero outside an engine's
// iteration). The engine reads the clock for it; a VU whose iteration is
// a single request starts the request at this time instead of reading
// the clock again.
func (s *State) Started() time.Time { return s.started }

// TakeDue returns the iteration's due time the first time it is called in
// an iteration, and false after. The first request of an open-model
// iteration measures its latency from this time, so a VU that started late
// because the target stalled does not hide the stall (coordinated
// omission).
func (s *State) TakeDue() (time.Time, bool) {
	if !s.duePending {
		return time.Time{}, false
	}
	s.duePending = false
	return s.due, true
}

// Due returns the iteration's due time without consuming it.
func (s *State) Due() time.Time { return s.due }
