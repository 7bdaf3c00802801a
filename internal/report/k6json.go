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

// WriteSummaryData writes the data k6 hands to a script's handleSummary:
// metrics.<name> = {type, contains, values: {...}, thresholds: {expr: {ok}}}
// (the newer shape, where a threshold's boolean means it passed).
func (s *Summary) WriteSummaryData(w io.Writer) error {
	ms := map[string]any{}
	for _, m := range s.Metrics {
		vals := map[string]float64{}
		for k, x := range m.Values {
			vals[k] = x
		}
		if m.Type == metrics.Rate {
			vals["rate"] = m.Values["rate"]
		}
		entry := map[string]any{"type": m.Type.String(), "contains": m.Contains.String(), "values": vals}
		th := map[string]any{}
		for _, t := range s.Thresholds {
			if t.Metric == m.Name {
				th[t.Source] = map[string]bool{"ok": t.Pass}
			}
		}
		if len(th) > 0 {
			entry["thresholds"] = th
		}
		ms[m.Name] = entry
	}
	out := map[string]any{
		"metrics":    ms,
		"root_group": map[string]any{"name": "", "path": "", "groups": []any{}, "checks": s.k6CheckList()},
		"options":    map[string]any{"summaryTrendStats": s.TrendStats},
		"state":      map[string]any{"testRunDurationMs": float64(s.Duration.Microseconds()) / 1000},
	}
	return json.NewEncoder(w).Encode(out)
}

func (s *Summary) k6CheckList() []any {
	var out []any
	for _, c := range s.Checks {
		out = append(out, map[string]any{"name": c.Name, "path": c.Group + "::" + c.Name, "passes": c.Passes, "fails": c.Fails})
	}
	return out
}
