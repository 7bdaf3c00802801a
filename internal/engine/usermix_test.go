package engine

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

// classedVU picks its class in Start, as a Locust-style user does.
type classedVU struct {
	lifeVU
	class UserClass
}

func (c *classedVU) Start(ctx context.Context) error {
	c.class = UserClass{Name: "Reader", Weight: 3}
	if c.st.IDInScen%2 == 1 {
		c.class = UserClass{Name: "Writer", FixedCount: 1}
	}
	return c.lifeVU.Start(ctx)
}

func (c *classedVU) UserClass() UserClass { return c.class }

func TestControlReportsUserMix(t *testing.T) {
	var starts, stops atomic.Int64
	classed := func(st *vu.State) (VU, error) {
		return &classedVU{lifeVU: lifeVU{funcVU: funcVU{st: st, f: func(context.Context, *vu.State) error { time.Sleep(5 * time.Millisecond); return nil }}, starts: &starts, stops: &stops}}, nil
	}
	ctl := NewControl()
	var mixes [][]ScenarioUsers
	_, err := Run(context.Background(), Options{Registry: metrics.NewRegistry(), Control: ctl, TickInterval: 100 * time.Millisecond,
		Scenarios: []*Scenario{
			{Name: "browse", Executor: ConstantVUs{VUs: 4, Duration: 700 * time.Millisecond}, NewVU: classed},
			{Name: "api", Executor: ConstantVUs{VUs: 2, Duration: 700 * time.Millisecond}, NewVU: sleeping(5 * time.Millisecond)},
		},
		OnTick: func(time.Time) { mixes = append(mixes, ctl.UserMix()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ScenarioUsers{
		{Scenario: "browse", Users: 4, Classes: []ClassUsers{{UserClass{Name: "Reader", Weight: 3}, 2}, {UserClass{Name: "Writer", FixedCount: 1}, 2}}},
		{Scenario: "api", Users: 2, Classes: []ClassUsers{}},
	}
	found := false
	for _, m := range mixes {
		found = found || reflect.DeepEqual(m, want)
	}
	if !found {
		t.Fatalf("no tick of %d had the user mix %+v; they had %+v", len(mixes), want, mixes)
	}
	// After the run every user has stopped: the classes stay listed at 0.
	last := mixes[len(mixes)-1]
	if last[0].Users != 0 || len(last[0].Classes) != 2 || last[0].Classes[0].Users != 0 || last[0].Classes[1].Users != 0 {
		t.Errorf("user mix at the final tick = %+v, want every count at 0", last)
	}
	if (*Control)(nil).UserMix() != nil {
		t.Error("a nil Control has a user mix")
	}
}
