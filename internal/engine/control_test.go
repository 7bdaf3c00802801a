package engine

import (
	"context"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

func TestControlSteersUsersAndStops(t *testing.T) {
	ctl := NewControl()
	reg := metrics.NewRegistry()
	sc := &Scenario{Executor: RampingVUs{StartVUs: 2, Stages: []Stage{{Duration: 30 * time.Second, Target: 2}}}, NewVU: sleeping(10 * time.Millisecond)}
	go func() {
		time.Sleep(600 * time.Millisecond)
		ctl.SetUsers(7, 0)
		time.Sleep(1200 * time.Millisecond)
		ctl.Stop()
	}()
	start := time.Now()
	res, err := Run(context.Background(), Options{Registry: reg, Scenarios: []*Scenario{sc}, Control: ctl, TickInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("Stop did not end the run (took %v)", time.Since(start))
	}
	if res.Aborted != "stopped from the dashboard" || res.Interrupted {
		t.Errorf("aborted %q interrupted %v", res.Aborted, res.Interrupted)
	}
	var peak float64
	for _, s := range reg.Series() {
		if s.Metric == reg.Builtin.VUs {
			for _, p := range s.Points {
				peak = max(peak, p.Max)
			}
		}
	}
	if peak != 7 {
		t.Errorf("peak vus %v, want the steered 7", peak)
	}
}
