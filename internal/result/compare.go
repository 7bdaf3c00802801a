package result

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/surgeload/surge/internal/bench/stats"
	"github.com/surgeload/surge/internal/metrics"
)

// Row is one compared statistic.
type Row struct {
	Metric string // "http_req_duration", or "http_req_duration{name:/api/items}"
	Stat   string // avg, med, p(95), rate …
	Unit   string // "ms", "/s", "%"
	Base   float64
	New    float64
	// Change is New/Base − 1; NaN when Base is 0.
	Change float64
	// P is the Mann-Whitney U test's p value over the two runs' per-second
	// values of this metric (NaN when there were too few seconds).
	P           float64
	Significant bool
	// Worse says whether the change goes the bad way (slower, fewer
	// requests, more failures).
	Worse bool
}

// Alpha is the significance level of the comparison.
const Alpha = 0.05

// Compare sets two runs side by side: latency statistics of the whole run
// and of each request name, throughput and error rate. Every row whose
// metric has per-second data carries a U test over the per-second values,
// so a difference the size of second-to-second noise is marked "~".
func Compare(base, new *Result) []Row {
	var rows []Row
	durTest := test(base.perSecondMean("http_req_duration", nil), new.perSecondMean("http_req_duration", nil))
	for _, st := range []string{"avg", "med", "p(90)", "p(95)", "p(99)", "max"} {
		rows = append(rows, row("http_req_duration", st, "ms", value(base, "http_req_duration", st), value(new, "http_req_duration", st), durTest, true))
	}
	rows = append(rows, row("http_reqs", "rate", "/s", value(base, "http_reqs", "rate"), value(new, "http_reqs", "rate"),
		test(base.perSecondCount("http_reqs"), new.perSecondCount("http_reqs")), false))
	rows = append(rows, row("http_req_failed", "rate", "%", 100*value(base, "http_req_failed", "rate"), 100*value(new, "http_req_failed", "rate"),
		test(base.perSecondRate("http_req_failed"), new.perSecondRate("http_req_failed")), true))
	rows = append(rows, row("iteration_duration", "p(95)", "ms", value(base, "iteration_duration", "p(95)"), value(new, "iteration_duration", "p(95)"),
		test(base.perSecondMean("iteration_duration", nil), new.perSecondMean("iteration_duration", nil)), true))
	names := map[string]bool{}
	for _, r := range new.Summary.Requests {
		names[r.Name] = true
	}
	var sorted []string
	for _, r := range base.Summary.Requests {
		if names[r.Name] {
			sorted = append(sorted, r.Name)
			names[r.Name] = false
		}
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		f := []metrics.Tag{{Key: "name", Value: n}}
		t := test(base.perSecondMean("http_req_duration", f), new.perSecondMean("http_req_duration", f))
		m := "http_req_duration{name:" + n + "}"
		rows = append(rows, row(m, "p(95)", "ms", requestP95(base, n), requestP95(new, n), t, true))
	}
	return rows
}

type uTest struct {
	p  float64
	ok bool
}

func test(a, b []float64) uTest {
	if len(a) < 3 || len(b) < 3 || minP(len(a), len(b)) > Alpha {
		// too few seconds for the U test to ever reach significance: no
		// test, and the change is judged on its own
		return uTest{p: math.NaN()}
	}
	c := stats.Compare(a, b, Alpha, stats.DefaultConfidence)
	return uTest{p: c.Test.P, ok: true}
}

// minP is the smallest two-sided p value a Mann-Whitney U test can give
// for samples of n and m values without ties: 2 / C(n+m, n).
func minP(n, m int) float64 {
	c := 1.0
	for i := 1; i <= n; i++ {
		c = c * float64(m+i) / float64(i)
	}
	return 2 / c
}

func row(metric, stat, unit string, base, new float64, t uTest, higherIsWorse bool) Row {
	r := Row{Metric: metric, Stat: stat, Unit: unit, Base: base, New: new, Change: math.NaN(), P: t.p}
	if base != 0 {
		r.Change = new/base - 1
	}
	r.Significant = t.ok && t.p <= Alpha
	r.Worse = (new > base) == higherIsWorse && new != base
	return r
}

func value(r *Result, metric, stat string) float64 {
	m := r.Summary.Metric(metric)
	if m == nil {
		return 0
	}
	return m.Values[stat]
}

func requestP95(r *Result, name string) float64 {
	var v float64
	for _, row := range r.Summary.Requests {
		if row.Name == name {
			v = math.Max(v, row.P95)
		}
	}
	return v
}

func (r *Result) perSecondMean(metric string, filter []metrics.Tag) []float64 {
	return collect(r.perSecond(metric, filter), func(p *metrics.Point) (float64, bool) {
		return p.Sum / float64(p.Count), p.Count > 0
	})
}

func (r *Result) perSecondCount(metric string) []float64 {
	return collect(r.perSecond(metric, nil), func(p *metrics.Point) (float64, bool) { return p.Sum / float64(p.Width()), true })
}

func (r *Result) perSecondRate(metric string) []float64 {
	return collect(r.perSecond(metric, nil), func(p *metrics.Point) (float64, bool) {
		return float64(p.Nonzero) / float64(p.Count), p.Count > 0
	})
}

func collect(ps map[int]*metrics.Point, f func(*metrics.Point) (float64, bool)) []float64 {
	var out []float64
	for _, p := range ps {
		if v, ok := f(p); ok {
			out = append(out, v)
		}
	}
	return out
}

// WriteTable prints the comparison, benchstat-style: "~" where the
// difference is within second-to-second noise.
func WriteTable(w io.Writer, rows []Row, baseName, newName string) error {
	width := 34
	for _, r := range rows {
		width = max(width, len(r.Metric)+len(r.Stat)+3)
	}
	fmt.Fprintf(w, "%-*s %14s %14s %10s %8s\n", width, "metric", trim(baseName, 14), trim(newName, 14), "change", "p")
	for _, r := range rows {
		change := "~"
		switch {
		case math.IsNaN(r.Change):
			change = "n/a"
		case r.Significant || math.IsNaN(r.P):
			change = fmt.Sprintf("%+.1f%%", 100*r.Change)
			if r.Worse && r.Significant {
				change += " ✗"
			}
		}
		p := "-"
		if !math.IsNaN(r.P) {
			p = strconv.FormatFloat(r.P, 'f', 3, 64)
		}
		fmt.Fprintf(w, "%-*s %14s %14s %10s %8s\n", width, r.Metric+" "+r.Stat, num(r.Base, r.Unit), num(r.New, r.Unit), change, p)
	}
	_, err := fmt.Fprintf(w, "\np: Mann-Whitney U over the runs' per-second values; ~: no significant difference (p > %.2f)\n", Alpha)
	return err
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}

func num(v float64, unit string) string {
	switch unit {
	case "ms":
		return strconv.FormatFloat(v, 'f', 3, 64) + "ms"
	case "%":
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + unit
}

// FailOn is a regression rule: "http_req_duration:p(95)>+10%" fails when
// the statistic grew by more than 10%; "http_reqs:rate<-5%" when it fell by
// more than 5%.
type FailOn struct {
	Metric, Stat string
	Up           bool    // '>' (grew) or '<' (fell)
	Limit        float64 // as a fraction: 0.10
	Source       string
}

// ParseFailOn parses a --fail-on rule.
func ParseFailOn(s string) (FailOn, error) {
	f := FailOn{Source: s}
	i := strings.LastIndexAny(s, "<>")
	j := strings.LastIndex(s[:max(i, 0)], ":")
	if i < 0 || j < 0 || !strings.HasSuffix(s, "%") {
		return f, fmt.Errorf("--fail-on %q: want METRIC:STAT>+N%% or METRIC:STAT<-N%%, e.g. 'http_req_duration:p(95)>+10%%'", s)
	}
	f.Metric, f.Stat, f.Up = s[:j], s[j+1:i], s[i] == '>'
	pct, err := strconv.ParseFloat(strings.TrimSuffix(s[i+1:], "%"), 64)
	if err != nil {
		return f, fmt.Errorf("--fail-on %q: bad percentage %q", s, s[i+1:])
	}
	f.Limit = math.Abs(pct) / 100
	return f, nil
}

// Violations returns the rows that break rule f.
func (f FailOn) Violations(rows []Row) (bad []Row, found bool) {
	for _, r := range rows {
		if r.Metric != f.Metric || r.Stat != f.Stat {
			continue
		}
		found = true
		if math.IsNaN(r.Change) || (!r.Significant && !math.IsNaN(r.P)) {
			continue // within noise: not a regression
		}
		if (f.Up && r.Change > f.Limit) || (!f.Up && r.Change < -f.Limit) {
			bad = append(bad, r)
		}
	}
	return bad, found
}
