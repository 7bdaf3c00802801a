package engine

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

func TestStageMarks(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		scs  []*Scenario
		want []time.Duration
	}{
		{"constant", []*Scenario{{Executor: ConstantVUs{VUs: 1, Duration: 10 * s}}}, []time.Duration{}},
		{"ramp", []*Scenario{{Executor: RampingVUs{Stages: []Stage{{3 * s, 3}, {20 * s, 5}}}}}, []time.Duration{3 * s, 23 * s}},
		{"delayed rate ramp and a shared boundary", []*Scenario{
			{Executor: RampingVUs{Stages: []Stage{{5 * s, 3}, {5 * s, 0}}}},
			{StartTime: 5 * s, Executor: RampingArrivalRate{Stages: []Stage{{2 * s, 10}}}},
		}, []time.Duration{5 * s, 7 * s, 10 * s}},
	} {
		if got := StageMarks(tc.scs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: StageMarks = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestControlKnowsStageMarks(t *testing.T) {
	ctl := NewControl()
	if ctl.StageMarks() != nil {
		t.Fatal("stage marks before the run")
	}
	sc := &Scenario{Executor: RampingVUs{StartVUs: 1, Stages: []Stage{{100 * time.Millisecond, 1}, {100 * time.Millisecond, 0}}}, NewVU: sleeping(5 * time.Millisecond)}
	if _, err := Run(context.Background(), Options{Registry: metrics.NewRegistry(), Scenarios: []*Scenario{sc}, Control: ctl, TickInterval: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if got, want := ctl.StageMarks(), []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}; !reflect.DeepEqual(got, want) {
		t.Errorf("Control.StageMarks = %v, want %v", got, want)
	}
}
