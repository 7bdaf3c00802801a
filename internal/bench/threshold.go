package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"
)

// Threshold is a --fail-on rule: fail when a benchmark in Unit changes
// significantly by more than Pct percent in Pct's direction ("+5" fails on
// a rise beyond 5%, "-5" on a drop beyond 5%).
type Threshold struct {
	Unit string
	Pct  float64
}

func (t Threshold) String() string { return fmt.Sprintf("%s:%+g%%", t.Unit, t.Pct) }

// ParseThreshold parses "UNIT:+N%" or "UNIT:-N%". The unit is tidied like
// benchmark units, so "ns/op" means "sec/op".
func ParseThreshold(s string) (Threshold, error) {
	unit, pct, ok := strings.Cut(s, ":")
	unit, pct = strings.TrimSpace(unit), strings.TrimSpace(pct)
	if !ok || unit == "" || !strings.HasSuffix(pct, "%") || (pct[0] != '+' && pct[0] != '-') {
		return Threshold{}, fmt.Errorf("--fail-on %q: want UNIT:+N%% or UNIT:-N%%, like sec/op:+5%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(pct, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Threshold{}, fmt.Errorf("--fail-on %q: %q is not a percentage", s, pct)
	}
	_, tidy := benchunit.Tidy(1, unit)
	return Threshold{Unit: tidy, Pct: v}, nil
}

// Violation is a significant change beyond a threshold.
type Violation struct {
	Threshold Threshold
	Pkg, Name string
	Change    float64 // in percent
	P         float64
}

func (v Violation) String() string {
	name := v.Name
	if v.Pkg != "" {
		name = v.Pkg + " " + name
	}
	return fmt.Sprintf("%s: %s changed %+.2f%% (p=%.3f), beyond %s", name, v.Threshold.Unit, v.Change, v.P, v.Threshold)
}

// CheckThresholds returns the rows whose change is significant and beyond a
// threshold of their unit. Changes that are not significant never fail,
// however large they look.
func CheckThresholds(tables []Table, ths []Threshold) []Violation {
	var out []Violation
	for _, th := range ths {
		for _, t := range tables {
			if t.Unit != th.Unit {
				continue
			}
			for _, r := range t.Rows {
				if !r.Compared || !r.Cmp.Significant || math.IsNaN(r.Cmp.Change) {
					continue
				}
				pct := 100 * r.Cmp.Change
				if (th.Pct >= 0 && pct > th.Pct) || (th.Pct < 0 && pct < th.Pct) {
					out = append(out, Violation{Threshold: th, Pkg: t.Pkg, Name: r.Name, Change: pct, P: r.Cmp.Test.P})
				}
			}
		}
	}
	return out
}
