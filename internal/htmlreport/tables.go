package htmlreport

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// cell is a table cell: what is shown and the number it sorts by.
type cell struct {
	Text string
	Num  string // sort key; empty sorts by Text
}

func num(v float64, text string) cell {
	return cell{Text: text, Num: strconv.FormatFloat(round3(v), 'f', -1, 64)}
}

func msCell(v float64) cell { return num(v, fmtMs(v)) }

func countCell(n int64) cell { return num(float64(n), strconv.FormatInt(n, 10)) }

type reqRow struct {
	Method, Name string
	Cells        []cell
	Failed       bool
}

// requestColumns are the numeric columns of the per-name table.
var requestColumns = []string{"requests", "fails", "fail %", "avg", "min", "med", "p90", "p95", "p99", "max", "req/s", "fails/s"}

func requestRows(rows []report.RequestRow) []reqRow {
	out := make([]reqRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, reqRow{Method: r.Method, Name: r.Name, Failed: r.Failures > 0, Cells: []cell{
			countCell(r.Requests), countCell(r.Failures), pctCell(r.Failures, r.Requests),
			msCell(r.Avg), msCell(r.Min), msCell(r.Med), msCell(r.P90), msCell(r.P95), msCell(r.P99), msCell(r.Max),
			num(r.RPS, trim(r.RPS, 2)), num(r.FailuresPerSec, trim(r.FailuresPerSec, 2)),
		}})
	}
	return out
}

func pctCell(part, whole int64) cell {
	if whole == 0 {
		return num(0, "–")
	}
	v := 100 * float64(part) / float64(whole)
	return num(v, trim(v, 2)+"%")
}

type checkRow struct {
	Group, Name string
	Cells       []cell
	Failed      bool
}

func checkRows(cs []report.CheckSummary) []checkRow {
	out := make([]checkRow, 0, len(cs))
	for _, c := range cs {
		out = append(out, checkRow{Group: c.Group, Name: c.Name, Failed: c.Fails > 0,
			Cells: []cell{countCell(c.Passes), countCell(c.Fails), pctCell(c.Passes, c.Passes+c.Fails)}})
	}
	return out
}

type metricRow struct {
	Name, Type string
	Values     []string // one per trend statistic, or a single summary
}

// metricRows is k6's metric list: trends in the run's trend statistics,
// other metrics as one line of values.
func metricRows(sum *report.Summary) []metricRow {
	out := make([]metricRow, 0, len(sum.Metrics))
	for i := range sum.Metrics {
		m := &sum.Metrics[i]
		r := metricRow{Name: m.Name, Type: m.Type.String()}
		if m.Type == metrics.Trend {
			for _, st := range sum.TrendStats {
				r.Values = append(r.Values, st+"="+fmtMetric(m, m.Values[st]))
			}
		} else {
			r.Values = []string{otherValues(m)}
		}
		out = append(out, r)
	}
	return out
}

func otherValues(m *report.MetricSummary) string {
	v := m.Values
	switch m.Type {
	case metrics.Counter:
		return fmt.Sprintf("%s (%s/s)", fmtMetric(m, v["count"]), fmtMetric(m, v["rate"]))
	case metrics.Gauge:
		return fmt.Sprintf("value=%s min=%s max=%s", fmtMetric(m, v["value"]), fmtMetric(m, v["min"]), fmtMetric(m, v["max"]))
	case metrics.Rate:
		return fmt.Sprintf("%s%% (%s of %s)", trim(100*v["rate"], 2), trim(v["passes"], 0), trim(v["passes"]+v["fails"], 0))
	}
	return ""
}

func fmtMetric(m *report.MetricSummary, v float64) string {
	switch m.Contains {
	case metrics.Time:
		return fmtMs(v)
	case metrics.Data:
		return fmtBytes(v)
	}
	return fmtNum(v)
}

func fmtBytes(v float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return trim(v, 1) + " " + units[i]
}

// tiles are the headline numbers.
func tiles(sum *report.Summary) []kv {
	var out []kv
	add := func(k, v string) { out = append(out, kv{k, v}) }
	if m := sum.Metric("http_reqs"); m != nil {
		add("requests", fmtNum(m.Values["count"]))
		add("req/s", fmtNum(m.Values["rate"]))
	}
	if m := sum.Metric("http_req_failed"); m != nil {
		add("failed", trim(100*m.Values["rate"], 2)+"%")
	}
	if m := sum.Metric("http_req_duration"); m != nil {
		add("p95", fmtMs(m.Values["p(95)"]))
		add("p99", fmtMs(m.Values["p(99)"]))
	}
	add("iterations", strconv.FormatInt(sum.Iterations, 10))
	if m := sum.Metric("vus"); m != nil {
		add("max VUs", trim(m.Values["max"], 0))
	}
	if m := sum.Metric("checks"); m != nil {
		add("checks", trim(100*m.Values["rate"], 2)+"%")
	}
	if m := sum.Metric("data_received"); m != nil {
		add("received", fmtBytes(m.Values["count"]))
	}
	return out
}

// charts draws the run's time series.
func charts(series []*metrics.Series, src sources, warmup time.Duration, maxPoints int) []template.HTML {
	tl := downsample(timeline(series, src), maxPoints)
	if len(tl) == 0 {
		return nil
	}
	base := chart{Span: float64(tl[len(tl)-1].Sec + tl[len(tl)-1].Width), Warmup: warmupSpans(tl, warmup)}
	for _, s := range tl {
		base.X = append(base.X, float64(s.Sec)+float64(s.Width)/2)
	}
	col := func(f func(s sample) float64) []float64 {
		v := make([]float64, len(tl))
		for i, s := range tl {
			v[i] = f(s)
		}
		return v
	}
	unit := strings.TrimSuffix(src.Unit, "s")
	rate := base
	rate.ID, rate.Title, rate.Unit = "chart-rate", src.Unit+" per second", "/s"
	rate.Lines = []line{{Name: unit + "s/s", Color: colorBlue, Values: col(func(s sample) float64 { return ifAny(s, s.Reqs) })}}
	if src.rateIsRate {
		rate.Lines = append(rate.Lines, line{Name: "failures/s", Color: colorRed, Values: col(func(s sample) float64 { return ifAny(s, s.Fails) })})
	}
	lat := base
	lat.ID, lat.Title, lat.Unit = "chart-latency", "response time ("+src.Latency.Name+")", "ms"
	lat.Lines = []line{
		{Name: "p50", Color: colorGreen, Values: col(func(s sample) float64 { return s.P50 })},
		{Name: "p95", Color: colorOrange, Values: col(func(s sample) float64 { return s.P95 })},
		{Name: "p99", Color: colorRed, Values: col(func(s sample) float64 { return s.P99 })},
		{Name: "max", Color: colorGr, Values: col(func(s sample) float64 { return s.Max })},
	}
	clipOutlier(&lat.Lines[3], lat.Lines[2])
	vus := base
	vus.ID, vus.Title = "chart-vus", "active virtual users"
	vus.Lines = []line{{Name: "VUs", Color: colorPurple, Values: col(func(s sample) float64 {
		if !s.hasVUs {
			return math.NaN()
		}
		return s.VUs
	})}}
	out := []template.HTML{rate.svg(), lat.svg(), vus.svg()}
	if byName, ok := p95ByName(series, src, base, tl[0].Width); ok {
		out = append(out, byName.svg())
	}
	return out
}

// palette colours the per-name lines.
var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#db2777"}

// p95ByName is one p95 line per request name, for runs with a few names
// (with one name it repeats the response-time chart; with many it is noise).
func p95ByName(series []*metrics.Series, src sources, base chart, width int) (chart, bool) {
	groups := map[string][]*metrics.Series{}
	var names []string
	for _, s := range series {
		if s.Metric != src.Latency {
			continue
		}
		n, ok := s.Tags.Get("name")
		if !ok {
			continue
		}
		if groups[n] == nil {
			names = append(names, n)
		}
		groups[n] = append(groups[n], s)
	}
	if len(names) < 2 || len(names) > len(palette) {
		return chart{}, false
	}
	sort.Strings(names)
	c := base
	c.ID, c.Title, c.Unit = "chart-names", "p95 response time by request name", "ms"
	for i, n := range names {
		// The same bucket width as the run's charts keeps the buckets
		// aligned; a name's timeline may end before the run's.
		tl := mergeEvery(timeline(groups[n], sources{Latency: src.Latency}), width)
		v := make([]float64, len(c.X))
		for j := range v {
			v[j] = math.NaN()
			if j < len(tl) {
				v[j] = tl[j].P95
			}
		}
		c.Lines = append(c.Lines, line{Name: n, Color: palette[i], Values: v})
	}
	return c, true
}

// ifAny is v for a second where anything was recorded, else a gap: before
// the first tick nothing is known, which is not the same as zero.
func ifAny(s sample, v float64) float64 {
	if !s.any {
		return math.NaN()
	}
	return v
}

// clipOutlier keeps one slow request from flattening the percentiles: when
// the max line peaks at more than clipRatio times the highest p99, the axis
// is scaled to the percentiles and the max line is drawn clipped at the top
// (the hover still shows its values).
func clipOutlier(maxLine *line, p99 line) {
	const clipRatio = 3
	peak := func(v []float64) float64 {
		m := 0.0
		for _, x := range v {
			if !math.IsNaN(x) {
				m = math.Max(m, x)
			}
		}
		return m
	}
	if pm := peak(p99.Values); pm > 0 && peak(maxLine.Values) > clipRatio*pm {
		maxLine.Clip = true
		maxLine.Name = "max (clipped)"
	}
}

// warmupSpans are the stretches of warm-up, in seconds: the window the run
// was given, widened to every bucket recorded as warm-up.
func warmupSpans(tl []sample, warmup time.Duration) [][2]float64 {
	var out [][2]float64
	if warmup > 0 {
		out = append(out, [2]float64{0, math.Min(warmup.Seconds(), float64(tl[len(tl)-1].Sec+tl[len(tl)-1].Width))})
	}
	for _, s := range tl {
		if !s.Warmup {
			continue
		}
		a, b := float64(s.Sec), float64(s.Sec+s.Width)
		if n := len(out); n > 0 && a <= out[n-1][1] {
			out[n-1][1] = math.Max(out[n-1][1], b)
		} else {
			out = append(out, [2]float64{a, b})
		}
	}
	return out
}
