package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

func TestMixRows(t *testing.T) {
	reader := engine.UserClass{Name: "Reader", Weight: 3}
	writer := engine.UserClass{Name: "Writer", FixedCount: 1}
	for _, tc := range []struct {
		name string
		mix  []engine.ScenarioUsers
		want []MixRow
	}{
		{"no control", nil, []MixRow{}},
		{"idle", []engine.ScenarioUsers{{Scenario: "default"}}, []MixRow{{Scenario: "default"}}},
		{"scenarios and classes", []engine.ScenarioUsers{
			{Scenario: "browse", Users: 6, Classes: []engine.ClassUsers{{UserClass: reader, Users: 5}, {UserClass: writer, Users: 1}}},
			{Scenario: "api", Users: 2},
		}, []MixRow{
			{Scenario: "browse", Class: "Reader", Users: 5, Share: 62.5, Weight: 3},
			{Scenario: "browse", Class: "Writer", Users: 1, Share: 12.5, FixedCount: 1},
			{Scenario: "api", Users: 2, Share: 25},
		}},
	} {
		if got := mixRows(tc.mix); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: mixRows = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := scenarioUsers([]engine.ScenarioUsers{{Scenario: "only", Users: 3}}); got != nil {
		t.Errorf("one scenario: per-scenario users %v, want none (the total line)", got)
	}
}

// classedVU plays a Locust-style user class chosen when it starts.
type classedVU struct {
	st    *vu.State
	class engine.UserClass
}

func (c *classedVU) Start(context.Context) error {
	c.class = engine.UserClass{Name: "Reader", Weight: 3}
	if c.st.IDInScen%2 == 1 {
		c.class = engine.UserClass{Name: "Writer", FixedCount: 1}
	}
	return nil
}
func (c *classedVU) Stop(context.Context) error  { return nil }
func (c *classedVU) UserClass() engine.UserClass { return c.class }
func (c *classedVU) RunIteration(ctx context.Context) error {
	select {
	case <-time.After(5 * time.Millisecond):
	case <-ctx.Done():
	}
	return nil
}

// TestUserMixOfARealRun runs the engine with two scenarios, one of them
// playing two user classes, and reads the mix and the stage marks from the
// event stream.
func TestUserMixOfARealRun(t *testing.T) {
	reg := metrics.NewRegistry()
	ctl := engine.NewControl()
	s, err := Start(Options{Addr: "127.0.0.1:0", Registry: reg, Control: ctl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	resp, err := http.Get(base(s) + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ev := sse{bufio.NewReader(resp.Body)}
	if name, _ := ev.next(t); name != "init" {
		t.Fatalf("first event %q", name)
	}
	idle := func(st *vu.State) (engine.VU, error) { return &classedVU{st: st}, nil }
	plain := func(st *vu.State) (engine.VU, error) { v := &classedVU{st: st}; return struct{ engine.VU }{v}, nil }
	done := make(chan error, 1)
	go func() {
		_, err := engine.Run(context.Background(), engine.Options{Registry: reg, Control: ctl, TickInterval: 100 * time.Millisecond,
			Scenarios: []*engine.Scenario{
				{Name: "browse", Executor: engine.ConstantVUs{VUs: 4, Duration: 800 * time.Millisecond}, NewVU: idle},
				{Name: "api", Executor: engine.RampingVUs{StartVUs: 2, Stages: []engine.Stage{{Duration: 300 * time.Millisecond, Target: 2}, {Duration: 500 * time.Millisecond, Target: 2}}}, NewVU: plain},
			},
			OnTick: s.Tick,
		})
		done <- err
	}()
	want := []MixRow{
		{Scenario: "browse", Class: "Reader", Users: 2, Share: 100.0 / 3, Weight: 3},
		{Scenario: "browse", Class: "Writer", Users: 2, Share: 100.0 / 3, FixedCount: 1},
		{Scenario: "api", Users: 2, Share: 100.0 / 3},
	}
	var tick struct {
		Point Point
		Stats Stats
		Meta  runMeta
	}
	found := false
	for i := 0; i < 8 && !found; i++ {
		name, data := ev.next(t)
		if err := json.Unmarshal([]byte(data), &tick); err != nil || name != "tick" {
			t.Fatalf("event %q: %v", name, err)
		}
		found = reflect.DeepEqual(tick.Stats.Mix, want)
	}
	if !found {
		t.Fatalf("no tick of the first 8 had the mix %+v; the last had %+v", want, tick.Stats.Mix)
	}
	if tick.Point.ScenarioUsers["browse"] != 4 || tick.Point.ScenarioUsers["api"] != 2 {
		t.Errorf("point's users by scenario = %v, want browse 4 and api 2", tick.Point.ScenarioUsers)
	}
	// The engine's stage ends mark the charts, without --stage flags.
	if got := tick.Meta.Stages; len(got) != 2 || got[0] != 0.3 || got[1] != 0.8 {
		t.Errorf("stage marks in the tick = %v, want [0.3 0.8] from the ramping scenario", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
