package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// TextOptions control the terminal summary.
type TextOptions struct {
	Color bool // ANSI colors (off for NO_COLOR and non-terminals)
}

// WriteText writes the end-of-test summary: thresholds first, notes, Locust's
// per-request table, checks, k6's metric list, and distinct errors.
func (s *Summary) WriteText(w io.Writer, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	p.thresholds(s)
	p.notes(s)
	p.requests(s)
	p.checks(s)
	p.metrics(s)
	p.errors(s)
	for _, a := range s.Attachments {
		if a.Text == "" {
			continue
		}
		p.f("\n  %s\n", p.bold(strings.ToUpper(a.Title)))
		for _, line := range strings.Split(strings.TrimRight(a.Text, "\n"), "\n") {
			p.f("    %s\n", line)
		}
	}
	if s.Warmup > 0 && !s.warmupAll {
		// what the results hold: the load after the warm-up
		var iters int64
		if m := s.Metric("iterations"); m != nil {
			iters = int64(m.Values["count"])
		}
		p.f("\n  %s %s after a %s warm-up, %d iterations", p.bold("run"), fmtDuration(s.Duration), fmtDuration(s.Warmup), iters)
	} else {
		p.f("\n  %s %s, %d iterations", p.bold("run"), fmtDuration(s.Duration), s.Iterations)
	}
	if vm := s.Metric("vus_max"); vm != nil {
		p.f(", up to %.0f VUs", vm.Values["max"])
	}
	p.f("\n")
	return p.err
}

type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (p *printer) bold(s string) string  { return p.paint("1", s) }
func (p *printer) green(s string) string { return p.paint("32", s) }
func (p *printer) red(s string) string   { return p.paint("31", s) }
func (p *printer) mark(ok bool) string {
	if ok {
		return p.green("✓")
	}
	return p.red("✗")
}

func (p *printer) thresholds(s *Summary) {
	if len(s.Thresholds) == 0 {
		return
	}
	p.f("\n  %s\n", p.bold("THRESHOLDS"))
	for _, t := range s.Thresholds {
		if t.Err != "" {
			p.f("    %s %s: '%s' %s\n", p.mark(false), t.Metric, t.Source, t.Err)
			continue
		}
		m := s.Metric(t.Metric)
		obs := fmt.Sprintf("%.4g", t.Observed)
		if m != nil {
			obs = formatValue(m, statOf(t.Source), t.Observed)
		}
		p.f("    %s %s: '%s' %s=%s\n", p.mark(t.Pass), t.Metric, t.Source, statOf(t.Source), obs)
	}
}

func statOf(src string) string {
	if i := strings.IndexAny(src, "<>=!"); i > 0 {
		return strings.TrimSpace(src[:i])
	}
	return src
}

func (p *printer) notes(s *Summary) {
	if len(s.Notes) == 0 {
		return
	}
	p.f("\n  %s\n", p.bold("NOTES"))
	for _, n := range s.Notes {
		p.f("    ! %s\n", n)
	}
}

func (p *printer) requests(s *Summary) {
	if len(s.Requests) == 0 {
		return
	}
	width := 24
	for _, r := range s.Requests {
		width = max(width, min(len(r.Name), 60))
	}
	p.f("\n  %s\n", p.bold("REQUESTS"))
	head := fmt.Sprintf("  %-7s %-*s %9s %16s | %8s %8s %8s %8s %8s %8s | %9s %10s", "Type", width, "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "p90", "p99", "req/s", "failures/s")
	p.f("%s\n", head)
	total := RequestRow{Method: "", Name: "Aggregated"}
	agg := metrics.NewAgg(metrics.Trend)
	for _, r := range s.Requests {
		p.row(width, r)
		total.Requests += r.Requests
		total.Failures += r.Failures
		total.RPS += r.RPS
		total.FailuresPerSec += r.FailuresPerSec
		agg.Merge(r.agg)
	}
	if len(s.Requests) > 1 {
		total.Avg, total.Min, total.Max = agg.Avg(), agg.Min, agg.Max
		total.Med, total.P90, total.P99 = agg.Percentile(50), agg.Percentile(90), agg.Percentile(99)
		p.f("  %s\n", strings.Repeat("-", len(head)-2))
		p.row(width, total)
	}
}

func (p *printer) row(width int, r RequestRow) {
	name := r.Name
	if len(name) > width {
		name = name[:width-1] + "…"
	}
	fails := fmt.Sprintf("%d(%.2f%%)", r.Failures, pct(r.Failures, r.Requests))
	p.f("  %-7s %-*s %9d %16s | %8s %8s %8s %8s %8s %8s | %9.1f %10.2f\n", r.Method, width, name, r.Requests, fails,
		ms(r.Avg), ms(r.Min), ms(r.Max), ms(r.Med), ms(r.P90), ms(r.P99), r.RPS, r.FailuresPerSec)
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func ms(v float64) string { return fmtDuration(time.Duration(v * float64(time.Millisecond))) }

func (p *printer) checks(s *Summary) {
	if len(s.Checks) == 0 {
		return
	}
	p.f("\n  %s\n", p.bold("CHECKS"))
	groups := map[string][]CheckSummary{}
	var order []string
	for _, c := range s.Checks {
		if _, ok := groups[c.Group]; !ok {
			order = append(order, c.Group)
		}
		groups[c.Group] = append(groups[c.Group], c)
	}
	sort.Strings(order)
	for _, g := range order {
		indent := "    "
		if g != "" {
			p.f("    █ %s\n", strings.TrimPrefix(g, "::"))
			indent = "      "
		}
		for _, c := range groups[g] {
			p.f("%s%s %s", indent, p.mark(c.Fails == 0), c.Name)
			if c.Fails > 0 {
				p.f("  %.0f%% — ✓ %d / ✗ %d", 100-pct(c.Fails, c.Passes+c.Fails), c.Passes, c.Fails)
			}
			p.f("\n")
		}
	}
}

func (p *printer) metrics(s *Summary) {
	p.f("\n  %s\n", p.bold("METRICS"))
	for _, m := range s.Metrics {
		label := m.Name
		if m.Sub {
			label = "  " + strings.Replace(m.Name[strings.IndexByte(m.Name, '{'):], ":", ": ", 1)
			label = strings.Replace(strings.Replace(label, "{", "{ ", 1), "}", " }", 1)
		}
		dots := 32 - len(label)
		if dots < 3 {
			dots = 3
		}
		p.f("    %s%s: %s\n", label, strings.Repeat(".", dots), metricLine(m, s.TrendStats))
	}
}

// metricLine formats a metric's values as k6 does.
func metricLine(m MetricSummary, trendStats []string) string {
	v := m.Values
	switch m.Type {
	case metrics.Counter:
		return fmt.Sprintf("%-10s %s/s", formatValue(&m, "count", v["count"]), formatValue(&m, "rate", v["rate"]))
	case metrics.Gauge:
		return fmt.Sprintf("%-10s min=%s max=%s", formatValue(&m, "value", v["value"]), formatValue(&m, "value", v["min"]), formatValue(&m, "value", v["max"]))
	case metrics.Rate:
		return fmt.Sprintf("%.2f%%  %.0f out of %.0f", 100*v["rate"], v["passes"], v["passes"]+v["fails"])
	}
	parts := make([]string, 0, len(trendStats))
	for _, st := range trendStats {
		val, ok := v[st]
		if !ok {
			if x, ok2 := trendStat(m.Agg, st); ok2 {
				val = x
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%-9s", st, formatValue(&m, st, val)))
	}
	return strings.TrimRight(strings.Join(parts, " "), " ")
}

// formatValue renders v in the metric's unit.
func formatValue(m *MetricSummary, stat string, v float64) string {
	switch {
	case m.Type == metrics.Rate || (stat == "rate" && m.Type != metrics.Counter):
		return fmt.Sprintf("%.2f%%", 100*v)
	case m.Contains == metrics.Time && stat != "count" && stat != "rate":
		return ms(v)
	case m.Contains == metrics.Data && stat != "rate":
		return fmtBytes(v)
	case m.Contains == metrics.Data:
		return fmtBytes(v)
	}
	return fmtNumber(v)
}

func fmtNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.6g", v)
}

func fmtBytes(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1f GB", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1f MB", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f kB", v/1e3)
	}
	return fmt.Sprintf("%.0f B", v)
}

// fmtDuration prints a duration as k6 does: 1.23ms, 456µs, 1.2s, 1m2s.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return trimZeros(fmt.Sprintf("%.2f", float64(d)/float64(time.Microsecond))) + "µs"
	case d < time.Second:
		return trimZeros(fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))) + "ms"
	case d < time.Minute:
		return trimZeros(fmt.Sprintf("%.2f", d.Seconds())) + "s"
	}
	return d.Round(time.Second).String()
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func (p *printer) errors(s *Summary) {
	if len(s.Errors) == 0 {
		return
	}
	p.f("\n  %s\n", p.bold("ERRORS"))
	shown := 0
	for _, e := range s.Errors {
		if shown == 20 {
			p.f("    … and %d more distinct errors (see the report)\n", len(s.Errors)-shown)
			break
		}
		where := ""
		if e.Where != "" {
			where = " at " + e.Where
		}
		p.f("    %8d× %s%s: %s\n", e.Count, e.Kind, where, e.Message)
		shown++
	}
	if s.ErrorsMore > 0 {
		p.f("    %8d× other errors past the first 200 distinct messages\n", s.ErrorsMore)
	}
}
