package report

import (
	"encoding/json"
	"io"

	"github.com/surgeload/surge/internal/metrics"
)

// WriteK6JSON writes the summary in the format of k6's --summary-export:
// metrics.<name> with count/rate for counters, avg/min/med/max/p(N) for
// trends (milliseconds), value/passes/fails for rates and value/min/max for
// gauges, and a thresholds map whose booleans are true when the threshold
// FAILED (k6's historical meaning, kept for the tools that read it).
func (s *Summary) WriteK6JSON(w io.Writer) error {
	out := map[string]any{
		"metrics": s.k6Metrics(),
		"root_group": map[string]any{
			"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e",
			"groups": map[string]any{}, "checks": s.k6Checks(),
		},
		"state": map[string]any{
			"isStdOutTTY": false, "isStdErrTTY": false,
			"testRunDurationMs": float64(s.Duration.Microseconds()) / 1000,
		},
		"surge": map[string]any{
			"iterations": s.Iterations, "exceptions": s.Exceptions,
			"dropped_iterations": s.Dropped, "interrupted_iterations": s.Interrupts,
			"warmup_seconds": s.Warmup.Seconds(), "notes": s.Notes, "errors": s.Errors,
			"requests": s.Requests,
		},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	return enc.Encode(out)
}

func (s *Summary) k6Metrics() map[string]any {
	ms := map[string]any{}
	for _, m := range s.Metrics {
		v := map[string]any{}
		for k, x := range m.Values {
			v[k] = x
		}
		switch m.Type {
		case metrics.Trend:
			delete(v, "count")
		case metrics.Rate:
			v["value"] = m.Values["rate"]
			delete(v, "rate")
		}
		th := map[string]bool{}
		for _, t := range s.Thresholds {
			if t.Metric == m.Name {
				th[t.Source] = !t.Pass
			}
		}
		if len(th) > 0 {
			v["thresholds"] = th
		}
		ms[m.Name] = v
	}
	return ms
}

func (s *Summary) k6Checks() map[string]any {
	out := map[string]any{}
	for _, c := range s.Checks {
		if c.Group != "" {
			continue
		}
		out[c.Name] = map[string]any{"name": c.Name, "path": "::" + c.Name, "passes": c.Passes, "fails": c.Fails}
	}
	return out
}
