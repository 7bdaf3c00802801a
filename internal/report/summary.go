// Package report turns a finished run into what people read: the terminal
// summary (k6's metric list and Locust's per-request table, thresholds at the
// top), the k6-compatible summary export, and the data model the HTML report
// and saved results share.
//
// Summary is built once from the metrics registry and is plain data, so every
// renderer is a pure function of it and golden-tested.
package report

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// Summary is a run's results.
type Summary struct {
	Start      time.Time
	Duration   time.Duration // measured time, warm-up excluded
	Warmup     time.Duration
	warmupAll  bool     // the load ended inside the warm-up: Duration is all of it
	TrendStats []string // which trend statistics to show: avg, min, med, max, p(N)
	Metrics    []MetricSummary
	Thresholds []ThresholdSummary
	Checks     []CheckSummary
	Requests   []RequestRow
	Errors     []metrics.ErrorEntry
	ErrorsMore int64
	Iterations int64
	Exceptions int64
	Interrupts int64
	Dropped    int64
	Aborted    string
	Stopped    bool // interrupted by the user
	Notes      []string
	// Attachments are what was recorded about the system under test during
	// the run: profiles per stage, the SQL that ran. Text goes to the
	// terminal, HTML to the report.
	Attachments []Attachment
}

// Attachment is one extra section of the summary and report.
type Attachment struct {
	Title string
	Text  string
	HTML  template.HTML
}

// MetricSummary is one metric or sub-metric with its values under k6's keys
// (count, rate, avg, min, med, max, p(90), value, passes, fails).
type MetricSummary struct {
	Name     string // with the sub-metric filter: "http_req_duration{expected_response:true}"
	Type     metrics.Type
	Contains metrics.ValueType
	Sub      bool
	Values   map[string]float64
	Agg      *metrics.Agg `json:"-"`
}

// ThresholdSummary is one threshold's outcome.
type ThresholdSummary struct {
	Metric   string
	Source   string
	Pass     bool
	Observed float64
	Err      string
}

// CheckSummary is one named check.
type CheckSummary struct {
	Name   string
	Group  string
	Passes int64
	Fails  int64
}

// RequestRow is one line of Locust's statistics table: a request name and
// method. Times are in milliseconds.
type RequestRow struct {
	Method, Name                      string
	Requests, Failures                int64
	Avg, Min, Max, Med, P90, P95, P99 float64
	RPS, FailuresPerSec               float64
	agg                               *metrics.Agg
}

// DefaultTrendStats is k6's summaryTrendStats default plus p(99), as the
// issue asks.
var DefaultTrendStats = []string{"avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"}

// Build reads the registry after a run.
func Build(reg *metrics.Registry, res *engine.Result, trendStats []string) *Summary {
	if len(trendStats) == 0 {
		trendStats = DefaultTrendStats
	}
	s := &Summary{
		Start: res.Start, Warmup: reg.Warmup(), TrendStats: trendStats,
		Iterations: res.Iterations, Exceptions: res.Exceptions, Interrupts: res.Interrupts,
		Dropped: res.Dropped, Aborted: res.Aborted, Stopped: res.Interrupted,
	}
	s.Duration = res.End.Sub(res.Start) - s.Warmup
	if s.Duration <= 0 {
		s.Duration = res.End.Sub(res.Start)
		s.warmupAll = s.Warmup > 0
	}
	subs := map[string][][]metrics.Tag{"http_req_duration": {{{Key: "expected_response", Value: "true"}}}}
	for _, t := range res.Thresholds {
		ts := ThresholdSummary{Metric: t.MetricName(), Source: t.Source, Pass: t.Pass, Observed: t.Observed}
		if t.Err != nil {
			ts.Err = t.Err.Error()
		}
		s.Thresholds = append(s.Thresholds, ts)
		if len(t.Filter) > 0 {
			subs[t.Metric] = append(subs[t.Metric], t.Filter)
		}
	}
	series := reg.Series()
	seen := map[*metrics.Metric]bool{}
	for _, se := range series {
		if se.Total.Count > 0 {
			seen[se.Metric] = true
		}
	}
	for _, m := range reg.Metrics() {
		if !seen[m] {
			continue
		}
		s.Metrics = append(s.Metrics, s.metricSummary(m.Name, m, reg.Total(m), false))
		done := map[string]bool{}
		for _, f := range subs[m.Name] {
			name := (&metrics.Threshold{Metric: m.Name, Filter: f}).MetricName()
			if done[name] {
				continue
			}
			done[name] = true
			if a := reg.Total(m, f...); a.Count > 0 || isThresholdMetric(res, name) {
				s.Metrics = append(s.Metrics, s.metricSummary(name, m, a, true))
			}
		}
	}
	sort.SliceStable(s.Metrics, func(i, j int) bool { return baseName(s.Metrics[i].Name) < baseName(s.Metrics[j].Name) })
	s.Checks = checks(reg, series)
	s.Requests = requests(reg, series, s.Duration)
	s.Errors, s.ErrorsMore = reg.Errors.Entries()
	s.notes()
	return s
}

func isThresholdMetric(res *engine.Result, name string) bool {
	for _, t := range res.Thresholds {
		if t.MetricName() == name {
			return true
		}
	}
	return false
}

func baseName(n string) string {
	if i := strings.IndexByte(n, '{'); i >= 0 {
		return n[:i]
	}
	return n
}

func (s *Summary) metricSummary(name string, m *metrics.Metric, a *metrics.Agg, sub bool) MetricSummary {
	v := map[string]float64{}
	secs := s.Duration.Seconds()
	switch m.Type {
	case metrics.Counter:
		v["count"] = a.Sum
		if secs > 0 {
			v["rate"] = a.Sum / secs
		}
	case metrics.Gauge:
		v["value"], v["min"], v["max"] = a.Last, a.Min, a.Max
	case metrics.Rate:
		v["rate"] = a.RateValue()
		v["passes"] = float64(a.Nonzero)
		v["fails"] = float64(a.Count - a.Nonzero)
	case metrics.Trend:
		for _, st := range append([]string{"avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"}, s.TrendStats...) {
			if val, ok := trendStat(a, st); ok {
				v[st] = val
			}
		}
		v["count"] = float64(a.Count)
	}
	return MetricSummary{Name: name, Type: m.Type, Contains: m.Contains, Sub: sub, Values: v, Agg: a}
}

// trendStat computes one of k6's trend statistics by name.
func trendStat(a *metrics.Agg, st string) (float64, bool) {
	switch st {
	case "avg":
		return a.Avg(), true
	case "min":
		return a.Min, true
	case "max":
		return a.Max, true
	case "med":
		return a.Percentile(50), true
	case "count":
		return float64(a.Count), true
	}
	var p float64
	if _, err := fmt.Sscanf(st, "p(%g)", &p); err == nil && p >= 0 && p <= 100 {
		return a.Percentile(p), true
	}
	return 0, false
}

// ValidTrendStat reports whether st is a statistic the summary can show.
func ValidTrendStat(st string) bool {
	_, ok := trendStat(metrics.NewAgg(metrics.Trend), st)
	return ok
}

func checks(reg *metrics.Registry, series []*metrics.Series) []CheckSummary {
	idx := map[string]*CheckSummary{}
	var out []*CheckSummary
	for _, se := range series {
		if se.Metric != reg.Builtin.Checks {
			continue
		}
		name, _ := se.Tags.Get("check")
		group, _ := se.Tags.Get("group")
		k := group + "\x00" + name
		c := idx[k]
		if c == nil {
			c = &CheckSummary{Name: name, Group: group}
			idx[k] = c
			out = append(out, c)
		}
		c.Passes += se.Total.Nonzero
		c.Fails += se.Total.Count - se.Total.Nonzero
	}
	res := make([]CheckSummary, len(out))
	for i, c := range out {
		res[i] = *c
	}
	return res
}

// requests builds Locust's table from http_req_duration and
// http_req_failed series, grouped by method and name.
func requests(reg *metrics.Registry, series []*metrics.Series, d time.Duration) []RequestRow {
	type key struct{ method, name string }
	rows := map[key]*RequestRow{}
	var order []key
	row := func(se *metrics.Series) *RequestRow {
		m, _ := se.Tags.Get("method")
		n, _ := se.Tags.Get("name")
		k := key{m, n}
		r := rows[k]
		if r == nil {
			r = &RequestRow{Method: m, Name: n, agg: metrics.NewAgg(metrics.Trend)}
			rows[k] = r
			order = append(order, k)
		}
		return r
	}
	for _, se := range series {
		switch se.Metric {
		case reg.Builtin.HTTPReqDuration:
			row(se).agg.Merge(se.Total)
		case reg.Builtin.HTTPReqFailed:
			r := row(se)
			r.Requests += se.Total.Count
			r.Failures += se.Total.Nonzero
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].name != order[j].name {
			return order[i].name < order[j].name
		}
		return order[i].method < order[j].method
	})
	out := make([]RequestRow, 0, len(order))
	for _, k := range order {
		r := rows[k]
		a := r.agg
		r.Avg, r.Min, r.Max = a.Avg(), a.Min, a.Max
		r.Med, r.P90, r.P95, r.P99 = a.Percentile(50), a.Percentile(90), a.Percentile(95), a.Percentile(99)
		if secs := d.Seconds(); secs > 0 {
			r.RPS = float64(r.Requests) / secs
			r.FailuresPerSec = float64(r.Failures) / secs
		}
		out = append(out, *r)
	}
	return out
}

// notes are the sentences a reader must not miss.
func (s *Summary) notes() {
	switch {
	case s.warmupAll:
		s.Notes = append(s.Notes, fmt.Sprintf("warm-up: the load (%s) ended before the warm-up (%s) did, so nothing of the load is in these results; shorten --warmup", s.Duration.Round(time.Millisecond), s.Warmup))
	case s.Warmup > 0:
		s.Notes = append(s.Notes, fmt.Sprintf("warm-up: the first %s are excluded from these results", s.Warmup))
	}
	if s.Dropped > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d iterations were due but never started: every VU was busy (raise --max-vus); they are counted in dropped_iterations", s.Dropped))
	}
	if s.Exceptions > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d of %d iterations ended in an exception", s.Exceptions, s.Iterations))
	}
	if s.Interrupts > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d iterations were cut off by the end of the test and are not counted", s.Interrupts))
	}
	if s.Aborted != "" {
		s.Notes = append(s.Notes, "the test was aborted: "+s.Aborted)
	}
	if s.Stopped {
		s.Notes = append(s.Notes, "the test was stopped before its end (interrupt); results cover the time it ran")
	}
}

// Metric returns the summary of the metric named name, or nil.
func (s *Summary) Metric(name string) *MetricSummary {
	for i := range s.Metrics {
		if s.Metrics[i].Name == name {
			return &s.Metrics[i]
		}
	}
	return nil
}

// ThresholdsFailed reports whether any threshold failed.
func (s *Summary) ThresholdsFailed() bool {
	for _, t := range s.Thresholds {
		if !t.Pass {
			return true
		}
	}
	return false
}
