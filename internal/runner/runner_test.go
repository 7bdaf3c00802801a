package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

// countVU adds 1 to its counter per iteration.
type countVU struct {
	st *vu.State
	m  *metrics.Metric
}

func (v countVU) RunIteration(context.Context) error {
	v.st.Shard.Add(v.m, v.st.Tags, 1)
	return nil
}

// TestAfterLoadCounts: what AfterLoad (a script's teardown) records after
// the engine's last tick is in the summary, the summary export and the
// thresholds, and a last OnTick shows it: 10 iterations add 10, AfterLoad
// adds 5.
func TestAfterLoadCounts(t *testing.T) {
	reg := metrics.NewRegistry()
	done := reg.MustNew("done", metrics.Counter, metrics.Default)
	th, err := metrics.ParseThreshold("done", "count==15")
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "summary.json")
	var lastTick float64 // done's total at the last OnTick
	sum, res, err := Run(context.Background(), Config{
		Registry:   reg,
		Thresholds: []*metrics.Threshold{th},
		Scenarios: []*engine.Scenario{{
			Name:     "s",
			Executor: engine.SharedIterations{VUs: 2, Iterations: 10},
			NewVU:    func(st *vu.State) (engine.VU, error) { return countVU{st, done}, nil },
		}},
		AfterLoad: func(context.Context) error {
			reg.Shard(0).Add(done, nil, 5)
			return nil
		},
		OnTick:        func(reg *metrics.Registry, _ time.Time) { lastTick = reg.Total(done).Sum },
		SummaryExport: export,
		NoSummary:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 10 {
		t.Errorf("%d iterations, want 10", res.Iterations)
	}
	if m := sum.Metric("done"); m == nil || m.Values["count"] != 15 {
		t.Errorf("summary done = %+v, want count 15", m)
	}
	if lastTick != 15 {
		t.Errorf("the last OnTick saw done = %v, want 15", lastTick)
	}
	if len(res.Thresholds) != 1 || !res.Thresholds[0].Pass || res.Thresholds[0].Observed != 15 {
		t.Errorf("threshold %+v, want count==15 passed with 15 observed", res.Thresholds)
	}
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if n := out.Metrics["done"]["count"]; n != 15.0 {
		t.Errorf("summary export done count = %v, want 15", n)
	}
}
