package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Threshold is one pass/fail criterion on a metric, in k6's syntax:
// "p(95)<500" on http_req_duration, "rate<0.01" on http_req_failed,
// "count>100", "avg<200", "med", "min", "max", "value", on sub-metrics too
// (http_req_duration{name:login}).
type Threshold struct {
	Metric string // name, without the tag filter
	Filter []Tag  // the sub-metric's tags, empty for the whole metric
	Source string // the expression as written: "p(95)<500"

	Stat  string  // avg, min, max, med, count, rate, value, p
	P     float64 // percentile for Stat "p"
	Op    string  // <, <=, >, >=, ==, !=
	Bound float64

	AbortOnFail    bool
	DelayAbortEval time.Duration
}

// SyntaxError says where an expression stopped making sense.
type SyntaxError struct {
	Input  string
	Column int // 1-based, in Input
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("threshold %q: %s at column %d", e.Input, e.Msg, e.Column)
}

// MetricName returns the metric with its filter, as k6 prints it:
// "http_req_duration{name:login}".
func (t *Threshold) MetricName() string {
	if len(t.Filter) == 0 {
		return t.Metric
	}
	parts := make([]string, len(t.Filter))
	for i, p := range t.Filter {
		parts[i] = p.Key + ":" + p.Value
	}
	return t.Metric + "{" + strings.Join(parts, ",") + "}"
}

// ParseSelector splits "name{k:v,k2:v2}" into the name and the filter.
func ParseSelector(sel string) (string, []Tag, error) {
	sel = strings.TrimSpace(sel)
	i := strings.IndexByte(sel, '{')
	if i < 0 {
		if !ValidName(sel) {
			return "", nil, &SyntaxError{Input: sel, Column: 1, Msg: "expected a metric name"}
		}
		return sel, nil, nil
	}
	name := strings.TrimSpace(sel[:i])
	if !ValidName(name) {
		return "", nil, &SyntaxError{Input: sel, Column: 1, Msg: "expected a metric name"}
	}
	if !strings.HasSuffix(sel, "}") {
		return "", nil, &SyntaxError{Input: sel, Column: len(sel) + 1, Msg: `expected "}"`}
	}
	var filter []Tag
	body := sel[i+1 : len(sel)-1]
	col := i + 2
	for _, part := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		if !ok || k == "" {
			return "", nil, &SyntaxError{Input: sel, Column: col, Msg: `expected "tag:value"`}
		}
		filter = append(filter, Tag{k, v})
		col += len(part) + 1
	}
	return name, filter, nil
}

// ParseThresholdFlag parses the command-line form "METRIC: EXPR", for
// example "http_req_duration{name:login}: p(95)<500".
func ParseThresholdFlag(s string) (*Threshold, error) {
	// the selector may contain ':' inside braces; split at the first ':' outside them
	depth := 0
	for i, c := range s {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		case ':':
			if depth == 0 {
				return ParseThreshold(s[:i], strings.TrimSpace(s[i+1:]))
			}
		}
	}
	return nil, &SyntaxError{Input: s, Column: len(s) + 1, Msg: `expected "metric: expression", for example "http_req_duration: p(95)<500"`}
}

// ParseThreshold parses expr for the metric selector sel.
func ParseThreshold(sel, expr string) (*Threshold, error) {
	name, filter, err := ParseSelector(sel)
	if err != nil {
		return nil, err
	}
	t := &Threshold{Metric: name, Filter: filter, Source: strings.TrimSpace(expr)}
	if err := t.parseExpr(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Threshold) parseExpr() error {
	s := t.Source
	fail := func(col int, msg string) error { return &SyntaxError{Input: s, Column: col, Msg: msg} }
	i := strings.IndexAny(s, "<>=!")
	if i < 0 { // no comparison: take the first word as the aggregation
		i = len(s)
		if f := strings.Fields(s); len(f) > 0 {
			i = strings.Index(s, f[0]) + len(f[0])
		}
	}
	if strings.Count(s[:i], "(") != strings.Count(s[:i], ")") {
		return fail(i+1, `expected ")"`)
	}
	stat := strings.ReplaceAll(s[:i], " ", "")
	switch {
	case stat == "avg" || stat == "min" || stat == "max" || stat == "med" || stat == "count" || stat == "rate" || stat == "value":
		t.Stat = stat
	case strings.HasPrefix(stat, "p(") && strings.HasSuffix(stat, ")"):
		p, err := strconv.ParseFloat(stat[2:len(stat)-1], 64)
		if err != nil || p < 0 || p > 100 {
			return fail(3, "expected a percentile between 0 and 100 in p(...)")
		}
		t.Stat, t.P = "p", p
	case stat == "":
		return fail(1, "expected an aggregation (avg, min, max, med, count, rate, value, p(N))")
	default:
		return fail(1, fmt.Sprintf("unknown aggregation %q (want avg, min, max, med, count, rate, value or p(N))", stat))
	}
	rest := strings.TrimSpace(s[i:])
	opCol := len(s) - len(rest) + 1
	for _, op := range []string{"<=", ">=", "===", "==", "!=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			t.Op = op
			if op == "===" {
				t.Op = "=="
			}
			rest = strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if t.Op == "" {
		return fail(opCol, "expected a comparison (<, <=, >, >=, ==, !=)")
	}
	v, err := strconv.ParseFloat(rest, 64)
	if err != nil {
		return fail(len(s)-len(rest)+1, fmt.Sprintf("expected a number, got %q", rest))
	}
	t.Bound = v
	return nil
}

// Check validates the threshold's aggregation against the metric's type.
func (t *Threshold) Check(m *Metric) error {
	ok := map[Type][]string{
		Counter: {"count", "rate"},
		Gauge:   {"value"},
		Rate:    {"rate"},
		Trend:   {"avg", "min", "max", "med", "p"},
	}[m.Type]
	for _, s := range ok {
		if s == t.Stat {
			return nil
		}
	}
	return fmt.Errorf("threshold %q on %s: a %s metric has no %q (it has %s)", t.Source, t.Metric, m.Type, t.Stat, strings.Join(ok, ", "))
}

// Observe returns the value the threshold compares, over elapsed time for a
// counter's rate.
func (t *Threshold) Observe(a *Agg, elapsed time.Duration) float64 {
	switch t.Stat {
	case "avg":
		return a.Avg()
	case "min":
		return a.Min
	case "max":
		return a.Max
	case "med":
		return a.Percentile(50)
	case "p":
		return a.Percentile(t.P)
	case "count":
		return a.Sum
	case "value":
		return a.Last
	case "rate":
		if a.Type == Counter {
			if elapsed <= 0 {
				return 0
			}
			return a.Sum / elapsed.Seconds()
		}
		return a.RateValue()
	}
	return 0
}

// Pass reports whether observed satisfies the threshold.
func (t *Threshold) Pass(observed float64) bool {
	switch t.Op {
	case "<":
		return observed < t.Bound
	case "<=":
		return observed <= t.Bound
	case ">":
		return observed > t.Bound
	case ">=":
		return observed >= t.Bound
	case "==":
		return observed == t.Bound
	case "!=":
		return observed != t.Bound
	}
	return false
}
