package dashboard

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// Stats is the state of the run shown in the tabs: Locust's statistics
// table, failures and exceptions grouped by message, checks and users.
type Stats struct {
	Elapsed    float64      `json:"elapsed"` // seconds since the start
	Status     string       `json:"status"`  // running, stopping, finished
	Users      float64      `json:"users"`
	UsersMax   float64      `json:"users_max"`
	Target     *Target      `json:"target,omitempty"` // set from the dashboard
	Since      float64      `json:"since"`            // seconds the table covers
	Requests   []Row        `json:"requests"`
	Total      *Row         `json:"total,omitempty"`
	Failures   []ErrorRow   `json:"failures"`
	Exceptions []ErrorRow   `json:"exceptions"`
	OtherErrs  int64        `json:"other_errors,omitempty"` // past the distinct-error limit
	Checks     []CheckRow   `json:"checks"`
	Mix        []MixRow     `json:"mix"` // current user mix; empty without engine control (distributed)
	Final      *FinalResult `json:"final,omitempty"`
}

// Target is the user count and spawn rate set from the dashboard.
type Target struct {
	Users     int     `json:"users"`
	SpawnRate float64 `json:"spawn_rate"`
}

// Row is one line of the statistics table. Times are in milliseconds.
type Row struct {
	Method   string  `json:"method"`
	Name     string  `json:"name"`
	Requests int64   `json:"requests"`
	Failures int64   `json:"failures"`
	Med      float64 `json:"med"`
	Avg      float64 `json:"avg"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	P90      float64 `json:"p90"`
	P95      float64 `json:"p95"`
	P99      float64 `json:"p99"`
	RPS      float64 `json:"rps"`
	FPS      float64 `json:"fps"`
}

// ErrorRow is one distinct failure or exception with its count; Where is
// the request name of a failure and the script location of an exception.
type ErrorRow struct {
	Message string `json:"message"`
	Where   string `json:"where"`
	Count   int64  `json:"count"`
}

// CheckRow is one named check.
type CheckRow struct {
	Name   string `json:"name"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// FinalResult is how the run ended, sent once after it finished.
type FinalResult struct {
	Notes      []string          `json:"notes"`
	Thresholds []ThresholdResult `json:"thresholds"`
}

// ThresholdResult is one threshold's outcome.
type ThresholdResult struct {
	Metric string `json:"metric"`
	Source string `json:"source"`
	Pass   bool   `json:"pass"`
}

// buildStats reads the registry's totals at now. window is the time the
// totals cover (since the start, warm-up excluded, or since the last
// reset), which the per-second rates divide by.
func buildStats(reg *metrics.Registry, now time.Time, window time.Duration) Stats {
	sum := report.Build(reg, &engine.Result{Start: reg.StartTime(), End: now}, nil)
	st := Stats{Elapsed: now.Sub(reg.StartTime()).Seconds(), Since: window.Seconds(), Requests: []Row{}, Failures: []ErrorRow{}, Exceptions: []ErrorRow{}, Checks: []CheckRow{}, Mix: []MixRow{}}
	secs := window.Seconds()
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	var total Row
	for _, r := range sum.Requests {
		if r.Requests == 0 { // nothing since a reset
			continue
		}
		row := Row{Method: r.Method, Name: r.Name, Requests: r.Requests, Failures: r.Failures,
			Med: r.Med, Avg: r.Avg, Min: r.Min, Max: r.Max, P90: r.P90, P95: r.P95, P99: r.P99,
			RPS: rate(r.Requests), FPS: rate(r.Failures)}
		st.Requests = append(st.Requests, row)
		total.Requests += r.Requests
		total.Failures += r.Failures
	}
	if d := sum.Metric("http_req_duration"); d != nil && len(st.Requests) > 0 {
		v := d.Values
		total.Name = "Aggregated"
		total.Med, total.Avg, total.Min, total.Max = v["med"], v["avg"], v["min"], v["max"]
		total.P90, total.P95, total.P99 = v["p(90)"], v["p(95)"], v["p(99)"]
		total.RPS, total.FPS = rate(total.Requests), rate(total.Failures)
		st.Total = &total
	}
	for _, e := range sum.Errors {
		row := ErrorRow{Message: e.Message, Where: e.Where, Count: e.Count}
		switch e.Kind {
		case "exception":
			st.Exceptions = append(st.Exceptions, row)
		default: // "request" and any later kind are failures of the load
			st.Failures = append(st.Failures, row)
		}
	}
	st.OtherErrs = sum.ErrorsMore
	for _, c := range sum.Checks {
		name := c.Name
		if c.Group != "" {
			name = c.Group + " › " + c.Name
		}
		st.Checks = append(st.Checks, CheckRow{Name: name, Passes: c.Passes, Fails: c.Fails})
	}
	for _, s := range reg.Series() {
		if n := len(s.Points); n > 0 {
			switch s.Metric {
			case reg.Builtin.VUs:
				st.Users = s.Points[n-1].Last
			case reg.Builtin.VUsMax:
				st.UsersMax = s.Points[n-1].Last
			}
		}
	}
	return st
}

// finalResult reads how the run ended from its summary.
func finalResult(sum *report.Summary) *FinalResult {
	f := &FinalResult{Notes: append([]string{}, sum.Notes...), Thresholds: []ThresholdResult{}}
	for _, t := range sum.Thresholds {
		f.Thresholds = append(f.Thresholds, ThresholdResult{Metric: t.Metric, Source: t.Source, Pass: t.Pass})
	}
	return f
}

// csvHeader is Locust's stats CSV header, so tools that read Locust's
// --csv files read this download too.
var csvHeader = []string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
	"Average Response Time", "Min Response Time", "Max Response Time", "Requests/s", "Failures/s",
	"90%", "95%", "99%"}

// WriteCSV writes the statistics table in Locust's stats CSV format, with
// the aggregated row last.
func (s *Stats) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	rows := s.Requests
	if s.Total != nil {
		rows = append(append([]Row{}, rows...), *s.Total)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, r := range rows {
		cw.Write([]string{r.Method, r.Name, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Failures, 10),
			f(r.Med), f(r.Avg), f(r.Min), f(r.Max), f(r.RPS), f(r.FPS), f(r.P90), f(r.P95), f(r.P99)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteFailuresCSV writes failures and exceptions, one per line, as
// Locust's failures CSV (Method is the kind here).
func (s *Stats) WriteFailuresCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"Kind", "Where", "Error", "Occurrences"})
	for _, e := range s.Failures {
		cw.Write([]string{"failure", e.Where, e.Message, strconv.FormatInt(e.Count, 10)})
	}
	for _, e := range s.Exceptions {
		cw.Write([]string{"exception", e.Where, e.Message, strconv.FormatInt(e.Count, 10)})
	}
	cw.Flush()
	return cw.Error()
}
