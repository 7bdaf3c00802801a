package bench

import (
	"fmt"
	"io"
	"math"
	"strings"

	"golang.org/x/perf/benchunit"
)

// WriteText renders tables as benchstat does: per benchmark the median
// with its confidence interval ("± 2%"), and against a baseline the change
// ("~" when not significant) with the U test's p value and sample sizes,
// then a geomean row. Warnings become numbered footnotes.
func WriteText(w io.Writer, tables []Table) error {
	notes := &footnotes{index: map[string]int{}}
	lastPkg := ""
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if t.Pkg != "" && t.Pkg != lastPkg {
			fmt.Fprintf(w, "pkg: %s\n", t.Pkg)
			lastPkg = t.Pkg
		}
		if err := textTable(t, notes).write(w); err != nil {
			return err
		}
	}
	for i, msg := range notes.list {
		if _, err := fmt.Fprintf(w, "%s %s\n", superscript(i+1), msg); err != nil {
			return err
		}
	}
	return nil
}

func textTable(t Table, notes *footnotes) *grid {
	g := &grid{sep: "  ", left: map[int]bool{}, seps: map[int]string{}}
	base := t.OldLabel != ""
	cls := benchunit.ClassOf(t.Unit)
	if base {
		g.left[4], g.left[5] = true, true
		g.seps[4] = " "
		g.add(t.Unit, t.OldLabel, t.NewLabel, "vs base", "", "")
	} else {
		g.left[2] = true
		g.add(t.Unit, t.NewLabel, "")
	}
	for _, r := range t.Rows {
		sc := benchunit.CommonScale(rowCenters(r), cls)
		cells := []string{r.Name}
		var warn []error
		if base {
			cells = append(cells, centerCells(r.HasOld, r.OldSum.Center, sc, r.OldSum)...)
			warn = append(warn, r.OldSum.Warnings...)
		}
		cells = append(cells, centerCells(r.HasNew, r.NewSum.Center, sc, r.NewSum)...)
		warn = append(warn, r.NewSum.Warnings...)
		if base {
			if r.Compared {
				cells = append(cells, r.Cmp.Delta(), "("+r.Cmp.Test.String()+")")
				warn = append(warn, r.Cmp.Test.Warnings...)
			} else {
				cells = append(cells, "", "")
			}
		}
		g.add(append(cells, notes.mark(warn))...)
	}
	if gm := t.Geomean; gm != nil {
		cells := []string{"geomean"}
		if base {
			cells = append(cells, scaleOrDash(gm.Old, cls)+"    ")
		}
		cells = append(cells, scaleOrDash(gm.New, cls)+"    ")
		if base {
			if math.IsNaN(gm.Ratio) {
				cells = append(cells, "?", "")
			} else {
				cells = append(cells, fmt.Sprintf("%+.2f%%", (gm.Ratio-1)*100), "")
			}
		}
		g.add(append(cells, notes.mark(gm.Warnings))...)
	}
	return g
}

func rowCenters(r Row) []float64 {
	var v []float64
	if r.HasOld {
		v = append(v, r.OldSum.Center)
	}
	if r.HasNew {
		v = append(v, r.NewSum.Center)
	}
	return v
}

func centerCells(has bool, center float64, sc benchunit.Scaler, s interface{ PctRangeString() string }) []string {
	if !has {
		return []string{""}
	}
	return []string{sc.Format(center) + " ± " + s.PctRangeString()}
}

func scaleOrDash(v float64, cls benchunit.Class) string {
	if math.IsNaN(v) {
		return "-"
	}
	return benchunit.Scale(v, cls)
}

type footnotes struct {
	list  []string
	index map[string]int
}

func (f *footnotes) mark(errs []error) string {
	var marks []string
	seen := map[string]bool{}
	for _, e := range errs {
		s := e.Error()
		if seen[s] {
			continue
		}
		seen[s] = true
		i, ok := f.index[s]
		if !ok {
			i = len(f.list)
			f.index[s] = i
			f.list = append(f.list, s)
		}
		marks = append(marks, superscript(i+1))
	}
	return strings.Join(marks, " ")
}

var superDigits = []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")

func superscript(i int) string {
	var out []rune
	for ; i > 0; i /= 10 {
		out = append([]rune{superDigits[i%10]}, out...)
	}
	if len(out) == 0 {
		return string(superDigits[0])
	}
	return string(out)
}
