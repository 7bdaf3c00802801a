package engine

import (
	"sort"
	"sync"
	"sync/atomic"
)

// UserClass is the kind of user a VU plays, as Locust's user classes: its
// name and, when the script gives them, its weight or fixed count.
type UserClass struct {
	Name       string
	Weight     int
	FixedCount int
}

// Classed is implemented by VUs that play one of several user classes. The
// engine asks on the VU's own goroutine right after Lifecycle.Start (which
// may pick the class) and counts the user in that class until Stop.
type Classed interface {
	UserClass() UserClass
}

// ScenarioUsers is the current user mix of one scenario: its active users
// and, for VUs that are Classed, how many play each class.
type ScenarioUsers struct {
	Scenario string
	Users    int
	Classes  []ClassUsers // by name; classes seen once stay listed at 0
}

// ClassUsers is how many active users play one class.
type ClassUsers struct {
	UserClass
	Users int
}

// classCount counts the active users of one class of a scenario.
type classCount struct {
	class UserClass
	n     atomic.Int64
}

// classes are the user classes seen in a scenario.
type classes struct {
	mu   sync.Mutex
	list []*classCount
}

// join counts one more user of c and returns its counter.
func (cs *classes) join(c UserClass) *classCount {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, cc := range cs.list {
		if cc.class == c {
			cc.n.Add(1)
			return cc
		}
	}
	cc := &classCount{class: c}
	cc.n.Add(1)
	cs.list = append(cs.list, cc)
	return cc
}

func (cs *classes) snapshot() []ClassUsers {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]ClassUsers, 0, len(cs.list))
	for _, cc := range cs.list {
		out = append(out, ClassUsers{UserClass: cc.class, Users: int(cc.n.Load())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// joinClass counts a started user in its class (VU goroutine only).
func (s *scenarioRun) joinClass(sl *slot) {
	if c, ok := sl.vu.(Classed); ok && sl.class == nil {
		sl.class = s.classes.join(c.UserClass())
	}
}

// leaveClass stops counting a user that stops (VU goroutine only).
func (s *scenarioRun) leaveClass(sl *slot) {
	if sl.class != nil {
		sl.class.n.Add(-1)
		sl.class = nil
	}
}

// userMix reads every scenario's users, in declaration order.
func (r *run) userMix() []ScenarioUsers {
	out := make([]ScenarioUsers, 0, len(r.scens))
	for _, s := range r.scens {
		out = append(out, ScenarioUsers{Scenario: s.sc.Name, Users: int(s.active.Load()), Classes: s.classes.snapshot()})
	}
	return out
}
