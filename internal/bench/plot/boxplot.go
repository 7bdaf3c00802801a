package plot

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/surgeload/surge/internal/bench/stats"
)

// BoxGroup is one chart: boxes that share an axis (one benchmark before
// and after, or the commands of one run).
type BoxGroup struct {
	Title  string
	Boxes  []Box
	Format func(float64) string // axis and value labels
}

// Box is one sample.
type Box struct {
	Label  string
	Values []float64
}

// box geometry, all in value space.
type boxStats struct {
	Q1, Median, Q3, Lo, Hi float64
	Outliers               []float64
	N                      int
}

// Tukey computes the box of a sample: quartiles, whiskers at the most
// extreme values within 1.5 IQR of the box, and the outliers beyond.
func tukey(xs []float64) boxStats {
	s := stats.Sorted(xs)
	b := boxStats{Q1: stats.Quantile(s, 0.25), Median: stats.Quantile(s, 0.5), Q3: stats.Quantile(s, 0.75), N: len(s)}
	iqr := b.Q3 - b.Q1
	lo, hi := b.Q1-1.5*iqr, b.Q3+1.5*iqr
	b.Lo, b.Hi = math.Inf(1), math.Inf(-1)
	for _, x := range s {
		if x < lo || x > hi {
			b.Outliers = append(b.Outliers, x)
			continue
		}
		b.Lo, b.Hi = math.Min(b.Lo, x), math.Max(b.Hi, x)
	}
	return b
}

const (
	chartW   = 720.0
	labelW   = 180.0
	rowH     = 34.0
	axisH    = 28.0
	plotLeft = labelW + 10
	plotW    = chartW - plotLeft - 50 // room for the last tick label
)

type svgBox struct {
	Label, Tooltip                     string
	Y, BoxY, BoxH, X1, Q1, Med, Q3, X2 float64
	Outliers                           []float64
}

type svgTick struct {
	X     float64
	Label string
}

type svgChart struct {
	Title  string
	Height float64
	Boxes  []svgBox
	Ticks  []svgTick
	AxisY  float64
	Left   float64
	Right  float64
}

func layout(g BoxGroup) svgChart {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range g.Boxes {
		for _, x := range b.Values {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if lo == hi || math.IsInf(lo, 0) {
		lo, hi = lo-1, hi+1
		if math.IsInf(lo, 0) {
			lo, hi = 0, 1
		}
	}
	padv := (hi - lo) * 0.05
	if lo >= 0 && lo-padv < 0 {
		lo = padv // times and sizes never go below zero
	}
	lo, hi = lo-padv, hi+padv
	x := func(v float64) float64 { return plotLeft + (v-lo)/(hi-lo)*plotW }
	c := svgChart{Title: g.Title, Left: plotLeft, Right: plotLeft + plotW}
	for i, b := range g.Boxes {
		y := float64(i)*rowH + 8
		sb := svgBox{Label: b.Label, Y: y + rowH/2, BoxY: y + 6, BoxH: rowH - 12}
		if len(b.Values) > 0 {
			t := tukey(b.Values)
			sb.X1, sb.Q1, sb.Med, sb.Q3, sb.X2 = x(t.Lo), x(t.Q1), x(t.Median), x(t.Q3), x(t.Hi)
			for _, o := range t.Outliers {
				sb.Outliers = append(sb.Outliers, x(o))
			}
			sb.Tooltip = fmt.Sprintf("%s: median %s, IQR %s–%s, n=%d", b.Label, g.Format(t.Median), g.Format(t.Q1), g.Format(t.Q3), t.N)
		}
		c.Boxes = append(c.Boxes, sb)
	}
	c.AxisY = float64(len(g.Boxes))*rowH + 12
	c.Height = c.AxisY + axisH
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		c.Ticks = append(c.Ticks, svgTick{X: x(v), Label: g.Format(v)})
	}
	return c
}

const style = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px} h2{font-size:15px;margin:24px 0 4px}
.box{fill:#8fb8de;stroke:#2c5d8a} .med{stroke:#b22;stroke-width:2} .wh{stroke:#2c5d8a}
.out{fill:none;stroke:#b22} .ax{stroke:#999} text{font-size:12px;fill:#333}`

// BoxPlotHTML writes a self-contained HTML page with one SVG box plot per
// group: no script, no external resource.
func BoxPlotHTML(w io.Writer, title string, groups []BoxGroup) error {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n<style>\n%s\n</style></head><body>\n", esc(title), style)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p>Boxes span the quartiles, the red line is the median, whiskers reach the furthest value within 1.5 IQR of the box; circles are outliers. Hover a box for its numbers.</p>\n", esc(title))
	for _, g := range groups {
		writeChart(&b, layout(g))
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChart(b *strings.Builder, c svgChart) {
	esc := template.HTMLEscapeString
	fmt.Fprintf(b, "<h2>%s</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", esc(c.Title), chartW, c.Height, chartW, c.Height)
	for _, x := range c.Boxes {
		fmt.Fprintf(b, "<g><title>%s</title>\n", esc(x.Tooltip))
		fmt.Fprintf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\">%s</text>\n", labelW, x.Y, esc(x.Label))
		if x.Tooltip != "" {
			fmt.Fprintf(b, "<line class=\"wh\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x.X1, x.Q1, x.Y, x.Y)
			fmt.Fprintf(b, "<line class=\"wh\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", x.Q3, x.X2, x.Y, x.Y)
			for _, e := range []float64{x.X1, x.X2} {
				fmt.Fprintf(b, "<line class=\"wh\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", e, e, x.BoxY+4, x.BoxY+x.BoxH-4)
			}
			fmt.Fprintf(b, "\n<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", x.Q1, x.BoxY, math.Max(1, x.Q3-x.Q1), x.BoxH)
			fmt.Fprintf(b, "<line class=\"med\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", x.Med, x.Med, x.BoxY, x.BoxY+x.BoxH)
			for _, o := range x.Outliers {
				fmt.Fprintf(b, "<circle class=\"out\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", o, x.Y)
			}
		}
		b.WriteString("</g>\n")
	}
	fmt.Fprintf(b, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", c.Left, c.Right, c.AxisY, c.AxisY)
	for _, t := range c.Ticks {
		fmt.Fprintf(b, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			t.X, t.X, c.AxisY, c.AxisY+4, t.X, c.AxisY+18, esc(t.Label))
	}
	b.WriteString("</svg>\n")
}
