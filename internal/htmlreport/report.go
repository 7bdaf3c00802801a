package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// DefaultMaxPoints bounds the buckets per chart: a 10-minute run keeps its
// one-second resolution, longer runs merge adjacent seconds.
const DefaultMaxPoints = 600

// Options are what the report shows besides the run's results.
type Options struct {
	Title     string            // default "surge report"
	Config    map[string]string // the test's configuration, shown sorted by key
	Env       Environment
	Sections  []Section // extra sections (profiles, SQL tables) after the built-in ones
	MaxPoints int       // buckets per chart; DefaultMaxPoints when 0
}

// Environment is where and with what the run happened.
type Environment struct {
	Version, Hostname, GOOS, GOARCH, GoVersion string
	CPUs                                       int
}

// Section is an extra titled block of trusted HTML, such as a flame graph.
type Section struct {
	Title string
	HTML  template.HTML
}

// CurrentEnvironment describes this process's machine.
func CurrentEnvironment(version string) Environment {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return Environment{Version: version, Hostname: host, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
}

// Write renders the report of a finished run to w.
func Write(w io.Writer, sum *report.Summary, reg *metrics.Registry, opts Options) error {
	if sum == nil || reg == nil {
		return fmt.Errorf("html report: no results to render")
	}
	p := buildPage(sum, reg, opts)
	if err := pageTmpl.Execute(w, p); err != nil {
		return fmt.Errorf("rendering html report: %w", err)
	}
	return nil
}

// kv is one row of a two-column table.
type kv struct{ Key, Value string }

// page is the template's model: everything formatted, nothing computed in
// the template.
type page struct {
	Title, Start, Duration, Verdict string
	Status                          string // pass, fail or none: the header's colour
	Tiles                           []kv
	Notes                           []string
	Thresholds                      []report.ThresholdSummary
	Charts                          []template.HTML
	Requests                        []reqRow
	RequestColumns                  []string
	Checks                          []checkRow
	Errors                          []metrics.ErrorEntry
	ErrorsMore                      int64
	Metrics                         []metricRow
	TrendStats                      []string
	Config, Env                     []kv
	Sections                        []Section
	Style                           template.CSS
	Script                          template.JS
}

func buildPage(sum *report.Summary, reg *metrics.Registry, o Options) *page {
	if o.Title == "" {
		o.Title = "surge report"
	}
	if o.MaxPoints <= 0 {
		o.MaxPoints = DefaultMaxPoints
	}
	p := &page{
		Title: o.Title, Start: sum.Start.UTC().Format(time.RFC3339), Duration: sum.Duration.Round(time.Millisecond).String(),
		Notes: sum.Notes, Thresholds: sum.Thresholds, Errors: sum.Errors, ErrorsMore: sum.ErrorsMore,
		TrendStats: sum.TrendStats, Sections: o.Sections, Style: template.CSS(styleCSS), Script: template.JS(scriptJS),
	}
	p.Verdict, p.Status = verdict(sum)
	p.Tiles = tiles(sum)
	series := reg.Series()
	p.Charts = charts(series, pickSources(reg, series), sum.Warmup, o.MaxPoints)
	p.Requests, p.RequestColumns = requestRows(sum.Requests), requestColumns
	p.Checks = checkRows(sum.Checks)
	p.Metrics = metricRows(sum)
	p.Config = sortedKV(o.Config)
	p.Env = envRows(o.Env, sum.Start)
	return p
}

func verdict(sum *report.Summary) (text, status string) {
	switch {
	case len(sum.Thresholds) == 0:
		return "no thresholds", "none"
	case sum.ThresholdsFailed():
		return "thresholds failed", "fail"
	}
	return "thresholds passed", "pass"
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func envRows(e Environment, start time.Time) []kv {
	rows := []kv{
		{"surge version", e.Version}, {"host", e.Hostname},
		{"platform", e.GOOS + "/" + e.GOARCH}, {"CPUs", fmt.Sprint(e.CPUs)},
		{"Go", e.GoVersion}, {"start", start.UTC().Format(time.RFC3339)},
	}
	out := rows[:0]
	for _, r := range rows {
		if r.Value != "" && r.Value != "/" && r.Value != "0" {
			out = append(out, r)
		}
	}
	return out
}
