package bench

import (
	"errors"
	"math"

	"github.com/surgeload/surge/internal/bench/stats"
)

// CompareOptions set the statistics of a comparison.
type CompareOptions struct {
	// Alpha is the significance level (stats.DefaultAlpha when 0).
	Alpha float64
	// Confidence is the level of the median's interval
	// (stats.DefaultConfidence when 0).
	Confidence float64
}

func (o CompareOptions) withDefaults() CompareOptions {
	if o.Alpha == 0 {
		o.Alpha = stats.DefaultAlpha
	}
	if o.Confidence == 0 {
		o.Confidence = stats.DefaultConfidence
	}
	return o
}

// Table compares the benchmarks of one package in one unit, as one of
// benchstat's tables.
type Table struct {
	Pkg, Unit          string
	OldLabel, NewLabel string // OldLabel is empty for a table without baseline
	Rows               []Row
	// Geomean summarizes the columns when there are at least two rows.
	Geomean *Geomean
}

// Row is one benchmark: its samples, their summaries, and the comparison
// when both sides have the benchmark.
type Row struct {
	Name     string
	Old, New []float64 // raw values; Old is nil when there is no baseline
	OldSum   stats.Summary
	NewSum   stats.Summary
	HasOld   bool
	HasNew   bool
	Compared bool
	Cmp      stats.Comparison
}

// Geomean is the summary row of a table: the geometric means of the
// centers and the geometric mean of the per-benchmark ratios.
type Geomean struct {
	Old, New float64
	Ratio    float64 // NaN when no benchmark is on both sides
	Warnings []error
}

// Summaries builds the tables of one set with no baseline.
func Summaries(set *Set, opts CompareOptions) []Table {
	return Compare(nil, set, opts)
}

// Compare builds one table per (package, unit) comparing set against the
// baseline old (which may be nil). Rows keep the order in which benchmarks
// first appear, baseline first.
func Compare(old, set *Set, opts CompareOptions) []Table {
	opts = opts.withDefaults()
	var tables []Table
	pos := map[[2]string]int{}
	table := func(pkg, unit string) *Table {
		k := [2]string{pkg, unit}
		i, ok := pos[k]
		if !ok {
			i = len(tables)
			pos[k] = i
			t := Table{Pkg: pkg, Unit: unit, NewLabel: set.Label}
			if old != nil {
				t.OldLabel = old.Label
			}
			tables = append(tables, t)
		}
		return &tables[i]
	}
	// Rows are found by index, never by pointer: appending moves them.
	rows := map[seriesKey][2]int{}
	addRow := func(s Series) *Row {
		k := seriesKey{s.Pkg, s.Name, s.Unit}
		if at, ok := rows[k]; ok {
			return &tables[at[0]].Rows[at[1]]
		}
		t := table(s.Pkg, s.Unit)
		t.Rows = append(t.Rows, Row{Name: s.Name})
		rows[k] = [2]int{pos[[2]string{s.Pkg, s.Unit}], len(t.Rows) - 1}
		return &t.Rows[len(t.Rows)-1]
	}
	if old != nil {
		for _, s := range old.Series {
			r := addRow(s)
			r.Old, r.HasOld = s.Values, true
		}
	}
	for _, s := range set.Series {
		r := addRow(s)
		r.New, r.HasNew = s.Values, true
	}
	for ti := range tables {
		t := &tables[ti]
		for ri := range t.Rows {
			fillRow(&t.Rows[ri], opts)
		}
		if len(t.Rows) > 1 {
			t.Geomean = geomean(t, old != nil)
		}
	}
	return tables
}

func fillRow(r *Row, opts CompareOptions) {
	if r.HasOld {
		r.OldSum = stats.Summarize(r.Old, opts.Confidence)
	}
	if r.HasNew {
		r.NewSum = stats.Summarize(r.New, opts.Confidence)
	}
	if r.HasOld && r.HasNew {
		r.Compared = true
		r.Cmp = stats.Compare(r.Old, r.New, opts.Alpha, opts.Confidence)
	}
}

// geomean follows benchstat: the geomean of the ratios of centers rather
// than the ratio of geomeans, so that differing benchmark sets still give
// a meaningful (if warned about) number.
func geomean(t *Table, withBase bool) *Geomean {
	var olds, news, ratios []float64
	nBase := 0
	for _, r := range t.Rows {
		if r.HasOld {
			olds = append(olds, r.OldSum.Center)
			nBase++
		}
		if r.HasNew {
			news = append(news, r.NewSum.Center)
		}
		if r.Compared {
			a, b := r.NewSum.Center, r.OldSum.Center
			switch {
			case a == b:
				ratios = append(ratios, 1)
			case b != 0:
				ratios = append(ratios, a/b)
			}
		}
	}
	g := &Geomean{Old: stats.GeoMean(olds), New: stats.GeoMean(news), Ratio: stats.GeoMean(ratios)}
	if withBase && len(ratios) != nBase {
		g.Warnings = append(g.Warnings, errors.New("benchmark set differs from baseline; geomeans may not be comparable"))
	}
	if math.IsNaN(g.New) || (withBase && math.IsNaN(g.Old)) {
		g.Warnings = append(g.Warnings, errors.New("summaries must be >0 to compute geomean"))
	}
	return g
}
