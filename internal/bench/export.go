package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"

	"github.com/surgeload/surge/internal/bench/stats"
)

// Report is everything one surge bench invocation found, in the shape of
// the JSON export.
type Report struct {
	Machine  Machine          `json:"machine"`
	Commit   string           `json:"commit,omitempty"`
	Commands []CommandSummary `json:"commands,omitempty"`
	Tables   []TableExport    `json:"comparisons,omitempty"`
}

// CommandSummary is a command's results as exported (hyperfine's JSON
// fields, plus median ± CI and peak memory). Times are in seconds.
type CommandSummary struct {
	Command    string            `json:"command"`
	Line       string            `json:"line"`
	Mean       float64           `json:"mean"`
	Stddev     float64           `json:"stddev"`
	Median     float64           `json:"median"`
	MedianLo   float64           `json:"median_ci_lo"`
	MedianHi   float64           `json:"median_ci_hi"`
	User       float64           `json:"user"`
	System     float64           `json:"system"`
	Min        float64           `json:"min"`
	Max        float64           `json:"max"`
	PeakRSS    int64             `json:"peak_rss_bytes"`
	RSSFloor   int64             `json:"rss_floor_bytes,omitempty"`
	Times      []float64         `json:"times"`
	ExitCodes  []int             `json:"exit_codes"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
	// Relative is the median over the fastest command's median, with its
	// uncertainty; P and Significant are the U test against the fastest
	// (absent for the fastest itself).
	Relative       float64  `json:"relative"`
	RelativeStddev float64  `json:"relative_stddev"`
	P              *float64 `json:"p,omitempty"`
	Significant    bool     `json:"significant"`
}

// CommandSummaries summarizes command results for export, each with its
// speed relative to the fastest.
func CommandSummaries(results []CommandResult, opts CompareOptions) []CommandSummary {
	rel := map[string]Relative{}
	for i, r := range Relatives(results, opts) {
		if i > 0 {
			rel[r.Result.Command.Name] = r
		}
	}
	var out []CommandSummary
	for _, r := range results {
		d := r.Describe()
		ci := stats.Summarize(r.Wall(), stats.DefaultConfidence)
		s := CommandSummary{
			Command: r.Command.Name, Line: r.Command.Line,
			Mean: d.Mean, Stddev: d.Stddev, Median: d.Median, MedianLo: ci.Lo, MedianHi: ci.Hi,
			User: stats.Mean(r.User()), System: stats.Mean(r.Sys()), Min: d.Min, Max: d.Max,
			PeakRSS: r.PeakRSS(), RSSFloor: r.RSSFloor, Times: r.Wall(), Warnings: Warnings(r),
		}
		for _, run := range r.Runs {
			s.ExitCodes = append(s.ExitCodes, run.ExitCode)
		}
		s.Relative = 1
		if x, ok := rel[r.Command.Name]; ok {
			s.Relative, s.RelativeStddev = x.Ratio.Value, x.Ratio.Stddev
			s.P, s.Significant = num(x.Cmp.Test.P), x.Cmp.Significant
		}
		if len(r.Command.Params) > 0 {
			s.Parameters = map[string]string{}
			for _, p := range r.Command.Params {
				s.Parameters[p.Name] = p.Value
			}
		}
		out = append(out, s)
	}
	return out
}

// TableExport is one comparison table as exported.
type TableExport struct {
	Pkg      string      `json:"pkg,omitempty"`
	Unit     string      `json:"unit"`
	Old      string      `json:"old,omitempty"`
	New      string      `json:"new"`
	Rows     []RowExport `json:"rows"`
	GeoOld   *float64    `json:"geomean_old,omitempty"`
	GeoNew   *float64    `json:"geomean_new,omitempty"`
	GeoRatio *float64    `json:"geomean_ratio,omitempty"`
}

// RowExport is one benchmark of a table; JSON has no NaN, so missing
// numbers are absent.
type RowExport struct {
	Name        string      `json:"name"`
	Old         *SideExport `json:"old,omitempty"`
	New         *SideExport `json:"new,omitempty"`
	Delta       string      `json:"delta,omitempty"`
	Change      *float64    `json:"change,omitempty"`
	P           *float64    `json:"p,omitempty"`
	Significant bool        `json:"significant"`
	Warnings    []string    `json:"warnings,omitempty"`
}

// SideExport is one sample's median with its confidence interval.
type SideExport struct {
	Median     float64   `json:"median"`
	Lo         *float64  `json:"ci_lo,omitempty"`
	Hi         *float64  `json:"ci_hi,omitempty"`
	Confidence float64   `json:"confidence"`
	N          int       `json:"n"`
	Values     []float64 `json:"values"`
}

// ExportTables converts tables for JSON.
func ExportTables(tables []Table) []TableExport {
	var out []TableExport
	for _, t := range tables {
		te := TableExport{Pkg: t.Pkg, Unit: t.Unit, Old: t.OldLabel, New: t.NewLabel}
		if g := t.Geomean; g != nil {
			te.GeoOld, te.GeoNew, te.GeoRatio = num(g.Old), num(g.New), num(g.Ratio)
			if t.OldLabel == "" {
				te.GeoOld, te.GeoRatio = nil, nil
			}
		}
		for _, r := range t.Rows {
			re := RowExport{Name: r.Name}
			if r.HasOld {
				re.Old = side(r.OldSum, r.Old)
			}
			if r.HasNew {
				re.New = side(r.NewSum, r.New)
			}
			if r.Compared {
				re.Delta, re.Change, re.P, re.Significant = r.Cmp.Delta(), num(r.Cmp.Change), num(r.Cmp.Test.P), r.Cmp.Significant
				for _, e := range r.Cmp.Test.Warnings {
					re.Warnings = append(re.Warnings, e.Error())
				}
			}
			te.Rows = append(te.Rows, re)
		}
		out = append(out, te)
	}
	return out
}

func side(s stats.Summary, values []float64) *SideExport {
	return &SideExport{Median: s.Center, Lo: num(s.Lo), Hi: num(s.Hi), Confidence: s.Confidence, N: len(values), Values: values}
}

// num is nil for NaN and ±Inf, which JSON cannot hold.
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes command summaries (when there are any) and then
// comparison rows, each block with its own header.
func WriteCSV(w io.Writer, cmds []CommandSummary, tables []Table) error {
	cw := csv.NewWriter(w)
	if len(cmds) > 0 {
		cw.Write([]string{"command", "mean", "stddev", "median", "user", "system", "min", "max", "peak_rss_bytes", "runs", "failed_runs"})
		for _, c := range cmds {
			failed := 0
			for _, e := range c.ExitCodes {
				if e != 0 {
					failed++
				}
			}
			cw.Write([]string{c.Command, f64(c.Mean), f64(c.Stddev), f64(c.Median), f64(c.User), f64(c.System),
				f64(c.Min), f64(c.Max), strconv.FormatInt(c.PeakRSS, 10), strconv.Itoa(len(c.Times)), strconv.Itoa(failed)})
		}
	}
	if len(tables) > 0 {
		if len(cmds) > 0 {
			cw.Write(nil)
		}
		cw.Write([]string{"pkg", "name", "unit", "old_median", "old_ci_lo", "old_ci_hi", "old_n", "new_median", "new_ci_lo", "new_ci_hi", "new_n", "delta", "p"})
		for _, t := range tables {
			for _, r := range t.Rows {
				rec := []string{t.Pkg, r.Name, t.Unit}
				rec = append(rec, csvSide(r.HasOld, r.OldSum, len(r.Old))...)
				rec = append(rec, csvSide(r.HasNew, r.NewSum, len(r.New))...)
				if r.Compared {
					rec = append(rec, r.Cmp.Delta(), f64(r.Cmp.Test.P))
				} else {
					rec = append(rec, "", "")
				}
				cw.Write(rec)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvSide(has bool, s stats.Summary, n int) []string {
	if !has {
		return []string{"", "", "", ""}
	}
	return []string{f64(s.Center), f64(s.Lo), f64(s.Hi), strconv.Itoa(n)}
}

func f64(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteMarkdown writes command summaries and comparison tables as GitHub
// Markdown tables.
func WriteMarkdown(w io.Writer, cmds []CommandSummary, tables []Table) error {
	var b strings.Builder
	if len(cmds) > 0 {
		b.WriteString("| Command | Mean [ms] | Median [ms] | Min [ms] | Max [ms] | User [ms] | System [ms] | Peak memory |\n")
		b.WriteString("|:---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range cmds {
			fmt.Fprintf(&b, "| `%s` | %.1f ± %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %s |\n", mdEscape(c.Command),
				c.Mean*1e3, c.Stddev*1e3, c.Median*1e3, c.Min*1e3, c.Max*1e3, c.User*1e3, c.System*1e3, fmtBytes(float64(c.PeakRSS)))
		}
	}
	for _, t := range tables {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		writeMarkdownTable(&b, t)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownTable(b *strings.Builder, t Table) {
	cls := benchunit.ClassOf(t.Unit)
	title := t.Unit
	if t.Pkg != "" {
		title = t.Pkg + " · " + t.Unit
	}
	base := t.OldLabel != ""
	if base {
		fmt.Fprintf(b, "| %s | %s | %s | vs base | p |\n|:---|---:|---:|---:|:---|\n", mdEscape(title), mdEscape(t.OldLabel), mdEscape(t.NewLabel))
	} else {
		fmt.Fprintf(b, "| %s | %s |\n|:---|---:|\n", mdEscape(title), mdEscape(t.NewLabel))
	}
	for _, r := range t.Rows {
		sc := benchunit.CommonScale(rowCenters(r), cls)
		cell := func(has bool, s stats.Summary) string {
			if !has {
				return ""
			}
			return sc.Format(s.Center) + " ± " + s.PctRangeString()
		}
		if base {
			delta, p := "", ""
			if r.Compared {
				delta, p = r.Cmp.Delta(), r.Cmp.Test.String()
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", mdEscape(r.Name), cell(r.HasOld, r.OldSum), cell(r.HasNew, r.NewSum), delta, p)
		} else {
			fmt.Fprintf(b, "| %s | %s |\n", mdEscape(r.Name), cell(r.HasNew, r.NewSum))
		}
	}
	if g := t.Geomean; g != nil {
		if base {
			ratio := "?"
			if !math.IsNaN(g.Ratio) {
				ratio = fmt.Sprintf("%+.2f%%", (g.Ratio-1)*100)
			}
			fmt.Fprintf(b, "| geomean | %s | %s | %s | |\n", scaleOrDash(g.Old, cls), scaleOrDash(g.New, cls), ratio)
		} else {
			fmt.Fprintf(b, "| geomean | %s |\n", scaleOrDash(g.New, cls))
		}
	}
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
