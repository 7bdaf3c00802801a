package surge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/vu"
)

// User is a kind of simulated user, as a Locust User class.
type User struct {
	Name string
	// Weight sets how often this kind is picked relative to the others
	// (default 1). FixedCount, when set, is the exact number of users of this
	// kind, created before the weighted ones (Locust's fixed_count).
	Weight, FixedCount int
	// Host is prefixed to request paths that start with "/".
	Host string
	// Wait is the pause after each task in closed-model executors.
	Wait WaitTime
	// OnStart runs once when the user starts (log in, keep a token in
	// v.Data); OnStop once when it stops.
	OnStart, OnStop func(v *VU) error
	// Tasks are picked at random by weight, or in order with Sequential.
	Tasks      []Task
	Sequential bool
}

// Task is one thing a user does.
type Task struct {
	Name   string
	Weight int      // default 1
	Tags   []string // selected with Test.IncludeTags / ExcludeTags
	Fn     func(v *VU) error
}

// WaitTime returns how long a user waits after a task that took taskTime.
type WaitTime func(taskTime time.Duration) time.Duration

// Between waits a uniformly random time in [lo, hi] (Locust's between).
func Between(lo, hi time.Duration) WaitTime {
	return func(time.Duration) time.Duration { return lo + time.Duration(rand.Int64N(int64(hi-lo)+1)) }
}

// Constant always waits d.
func Constant(d time.Duration) WaitTime { return func(time.Duration) time.Duration { return d } }

// ConstantPacing waits so that each task plus its wait takes d.
func ConstantPacing(d time.Duration) WaitTime {
	return func(took time.Duration) time.Duration { return max(d-took, 0) }
}

// ConstantThroughput paces a user to perTask tasks per second.
func ConstantThroughput(perSecond float64) WaitTime {
	return ConstantPacing(time.Duration(float64(time.Second) / perSecond))
}

// mix assigns user kinds to VU slots and tasks to iterations.
type mix struct {
	kinds []kind
	order []int // kind index per weighted slot, one weight cycle long
	fixed int
}

type kind struct {
	User
	tasks []Task
	total int
}

func newMix(users []User, include, exclude []string) (*mix, error) {
	m := &mix{}
	for i, u := range users {
		k := kind{User: u}
		for _, t := range u.Tasks {
			if t.Fn == nil {
				return nil, fmt.Errorf("user %q: task %q has no function", u.Name, t.Name)
			}
			if selected(t.Tags, include, exclude) {
				if t.Weight <= 0 {
					t.Weight = 1
				}
				k.tasks = append(k.tasks, t)
				k.total += t.Weight
			}
		}
		if len(u.Tasks) == 0 {
			return nil, fmt.Errorf("user %q has no tasks", u.Name)
		}
		if k.Weight <= 0 {
			k.Weight = 1
		}
		m.kinds = append(m.kinds, k)
		if u.FixedCount > 0 {
			for j := 0; j < u.FixedCount; j++ {
				m.order = append(m.order, i)
			}
			m.fixed += u.FixedCount
		}
	}
	m.order = append(m.order, weightedCycle(m.kinds)...)
	return m, nil
}

func selected(tags, include, exclude []string) bool {
	for _, t := range tags {
		if slices.Contains(exclude, t) {
			return false
		}
	}
	if len(include) == 0 {
		return true
	}
	for _, t := range tags {
		if slices.Contains(include, t) {
			return true
		}
	}
	return false
}

// weightedCycle spreads kinds by weight with smooth weighted round robin,
// so that any prefix of VUs is close to the weights (Locust's rule).
func weightedCycle(kinds []kind) []int {
	var out []int
	total := 0
	cur := make([]int, len(kinds))
	for _, k := range kinds {
		if k.FixedCount == 0 {
			total += k.Weight
		}
	}
	for n := 0; n < total; n++ {
		best := -1
		for i, k := range kinds {
			if k.FixedCount > 0 {
				continue
			}
			cur[i] += k.Weight
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		out = append(out, best)
	}
	return out
}

// kindFor returns the kind of the VU at index idx of its scenario.
func (m *mix) kindFor(idx int) *kind {
	if idx < m.fixed {
		return &m.kinds[m.order[idx]]
	}
	cycle := m.order[m.fixed:]
	if len(cycle) == 0 {
		return &m.kinds[m.order[idx%len(m.order)]]
	}
	return &m.kinds[cycle[(idx-m.fixed)%len(cycle)]]
}

func (m *mix) newVU(closedModel bool) engine.NewVUFunc {
	return func(st *vu.State) (engine.VU, error) {
		k := m.kindFor(st.IDInScen)
		return &userVU{VU: newVU(st, k.Host), kind: k, wait: closedModel}, nil
	}
}

// userVU runs a kind's tasks.
type userVU struct {
	*VU
	kind *kind
	wait bool
	next int
	deck []int
}

// maxDeck bounds the shuffled-deck task picker: up to this total weight a
// user deals its tasks from a shuffled deck holding each task Weight times,
// so every cycle has the exact proportions in random order (a 10:1 mix is
// 10:1 after a few hundred tasks, not only in expectation); beyond it,
// tasks are drawn at random by weight.
const maxDeck = 1000

func (k *kind) newDeck() []int {
	deck := make([]int, 0, k.total)
	for i, t := range k.tasks {
		for j := 0; j < t.Weight; j++ {
			deck = append(deck, i)
		}
	}
	rand.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
	return deck
}

func (u *userVU) Start(ctx context.Context) error {
	if u.kind.OnStart == nil {
		return nil
	}
	u.VU.ctx = ctx
	return u.kind.OnStart(u.VU)
}

func (u *userVU) Stop(ctx context.Context) error {
	if u.kind.OnStop == nil {
		return nil
	}
	u.VU.ctx = ctx
	return u.kind.OnStop(u.VU)
}

func (u *userVU) RunIteration(ctx context.Context) error {
	u.VU.ctx = ctx
	if len(u.kind.tasks) == 0 {
		return u.VU.Sleep(time.Second) // every task filtered out by tags: idle, as Locust
	}
	t := u.pick()
	start := time.Now()
	err := t.Fn(u.VU)
	if u.wait && u.kind.Wait != nil && err == nil {
		if d := u.kind.Wait(time.Since(start)); d > 0 {
			u.VU.Sleep(d)
		}
	}
	return err
}

func (u *userVU) pick() *Task {
	ts := u.kind.tasks
	if u.kind.Sequential {
		t := &ts[u.next%len(ts)]
		u.next++
		return t
	}
	if len(ts) == 1 {
		return &ts[0]
	}
	if u.kind.total <= maxDeck {
		if len(u.deck) == 0 {
			u.deck = u.kind.newDeck()
		}
		i := u.deck[len(u.deck)-1]
		u.deck = u.deck[:len(u.deck)-1]
		return &ts[i]
	}
	n := rand.IntN(u.kind.total)
	for i := range ts {
		if n < ts[i].Weight {
			return &ts[i]
		}
		n -= ts[i].Weight
	}
	return &ts[len(ts)-1]
}
