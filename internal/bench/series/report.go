package series

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/surgeload/surge/internal/bench/plot"
	"github.com/surgeload/surge/internal/bench/stats"
)

// Summary describes one series.
type Summary struct {
	Name        string             `json:"name"`
	Count       int                `json:"count"`
	Dropped     int                `json:"warmup_dropped,omitempty"`
	Mean        float64            `json:"mean"`
	Stddev      float64            `json:"stddev"`
	Min         float64            `json:"min"`
	Max         float64            `json:"max"`
	Percentiles []stats.Percentile `json:"percentiles"`
}

// Describe summarizes s with stats.StandardPercentiles.
func Describe(s Series) Summary {
	d := stats.Describe(s.Values)
	return Summary{
		Name: s.Name, Count: d.Count, Dropped: s.Dropped, Mean: d.Mean, Stddev: d.Stddev,
		Min: d.Min, Max: d.Max, Percentiles: stats.Percentiles(s.Values, stats.StandardPercentiles),
	}
}

// rows returns the table body: a label and one cell per summary.
func rows(sums []Summary) [][]string {
	out := [][]string{{"count"}, {"mean"}, {"stddev"}, {"min"}}
	for _, p := range stats.StandardPercentiles {
		out = append(out, []string{"p" + strconv.FormatFloat(p, 'f', -1, 64)})
	}
	out = append(out, []string{"max"})
	for _, s := range sums {
		cells := []string{strconv.Itoa(s.Count), Num(s.Mean), Num(s.Stddev), Num(s.Min)}
		for _, p := range s.Percentiles {
			cells = append(cells, Num(p.Value))
		}
		cells = append(cells, Num(s.Max))
		for i := range out {
			out[i] = append(out[i], cells[i])
		}
	}
	return out
}

// Num formats a value with six significant digits, without exponent for
// everyday magnitudes and without trailing zeros.
func Num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v == 0 {
		return "0"
	}
	mag := int(math.Floor(math.Log10(math.Abs(v))))
	if mag >= 9 || mag < -4 {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	s := strconv.FormatFloat(v, 'f', max(0, 5-mag), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// WriteText writes the summaries side by side, then a histogram of each
// series when bins ≥ 0 (0 picks the number of bins).
func WriteText(w io.Writer, sums []Summary, series []Series, bins int) error {
	header := []string{""}
	for _, s := range sums {
		header = append(header, s.Name)
	}
	table := append([][]string{header}, rows(sums)...)
	widths := make([]int, len(header))
	for _, r := range table {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range table {
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
	}
	for _, s := range sums {
		if s.Dropped > 0 {
			fmt.Fprintf(&b, "%s: dropped the first %d values (--warmup)\n", s.Name, s.Dropped)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if bins < 0 {
		return nil
	}
	for _, s := range series {
		fmt.Fprintf(w, "\n%s\n", s.Name)
		if err := plot.Histogram(w, stats.Bins(s.Values, bins), Num); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the summaries as a JSON array.
func WriteJSON(w io.Writer, sums []Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sums)
}

// WriteCSV writes one row per statistic and one column per series, at full
// precision.
func WriteCSV(w io.Writer, sums []Summary) error {
	cw := csv.NewWriter(w)
	header := []string{"stat"}
	for _, s := range sums {
		header = append(header, s.Name)
	}
	cw.Write(header)
	labels := rows(nil)
	for i, label := range labels {
		rec := []string{label[0]}
		for _, s := range sums {
			rec = append(rec, exact(s)[i])
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func exact(s Summary) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	out := []string{strconv.Itoa(s.Count), f(s.Mean), f(s.Stddev), f(s.Min)}
	for _, p := range s.Percentiles {
		out = append(out, f(p.Value))
	}
	return append(out, f(s.Max))
}

// WriteMarkdown writes the side-by-side table in GitHub Markdown.
func WriteMarkdown(w io.Writer, sums []Summary) error {
	var b strings.Builder
	b.WriteString("| |")
	for _, s := range sums {
		fmt.Fprintf(&b, " %s |", strings.ReplaceAll(s.Name, "|", `\|`))
	}
	b.WriteString("\n|:---|" + strings.Repeat("---:|", len(sums)) + "\n")
	for _, r := range rows(sums) {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
