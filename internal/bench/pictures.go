package bench

import (
	"io"

	"golang.org/x/perf/benchunit"

	"github.com/surgeload/surge/internal/bench/plot"
	"github.com/surgeload/surge/internal/bench/stats"
)

// BoxGroups makes one box plot per benchmark row: the baseline's sample
// above the current one, on a shared axis.
func BoxGroups(tables []Table) []plot.BoxGroup {
	var out []plot.BoxGroup
	for _, t := range tables {
		cls := benchunit.ClassOf(t.Unit)
		format := func(v float64) string { return benchunit.Scale(v, cls) }
		for _, r := range t.Rows {
			g := plot.BoxGroup{Title: r.Name + " · " + t.Unit, Format: format}
			if r.Compared {
				g.Title += " · " + r.Cmp.Delta() + " (" + r.Cmp.Test.String() + ")"
			}
			if r.HasOld {
				g.Boxes = append(g.Boxes, plot.Box{Label: t.OldLabel, Values: r.Old})
			}
			if r.HasNew {
				g.Boxes = append(g.Boxes, plot.Box{Label: t.NewLabel, Values: r.New})
			}
			out = append(out, g)
		}
	}
	return out
}

// CommandBoxGroup puts every command's wall times on one axis.
func CommandBoxGroup(results []CommandResult) plot.BoxGroup {
	g := plot.BoxGroup{Title: "wall time", Format: fmtSeconds}
	for _, r := range results {
		g.Boxes = append(g.Boxes, plot.Box{Label: r.Command.Name, Values: r.Wall()})
	}
	return g
}

// WriteHistograms draws a terminal histogram of each command's wall times.
func WriteHistograms(w io.Writer, results []CommandResult) error {
	for _, r := range results {
		if _, err := io.WriteString(w, r.Command.Name+"\n"); err != nil {
			return err
		}
		if err := plot.Histogram(w, stats.Bins(r.Wall(), 0), fmtSeconds); err != nil {
			return err
		}
		io.WriteString(w, "\n")
	}
	return nil
}

// WriteTableHistograms draws a terminal histogram of each benchmark's
// current sample in the time tables (sec/op).
func WriteTableHistograms(w io.Writer, tables []Table) error {
	for _, t := range tables {
		if t.Unit != "sec/op" {
			continue
		}
		for _, r := range t.Rows {
			if !r.HasNew {
				continue
			}
			io.WriteString(w, r.Name+" ("+t.Unit+")\n")
			format := func(v float64) string { return benchunit.Scale(v, benchunit.Decimal) + "s" }
			if err := plot.Histogram(w, stats.Bins(r.New, 0), format); err != nil {
				return err
			}
			io.WriteString(w, "\n")
		}
	}
	return nil
}
