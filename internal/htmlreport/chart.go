package htmlreport

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// chart is one time-series chart: lines over the run's seconds, with the
// warm-up shaded.
type chart struct {
	ID, Title string
	Unit      string // "ms", "/s" or "" (for tick labels)
	Lines     []line
	X         []float64 // bucket centres, in seconds since the start
	Warmup    [][2]float64
	Span      float64 // seconds on the x axis
}

// line is one named series; NaN values are gaps. A clipped line does not
// set the y axis and is drawn flat along the top where it exceeds it.
type line struct {
	Name, Color string
	Values      []float64
	Clip        bool
}

// Geometry of every chart, in SVG user units.
const (
	chartW, chartH                   = 960, 240
	padL, padR, padT, padB           = 64, 16, 30, 26
	plotW, plotH                     = chartW - padL - padR, chartH - padT - padB
	markersUpTo                      = 90 // draw point markers on short runs
	colorBlue, colorRed, colorOrange = "#2563eb", "#dc2626", "#ea580c"
	colorGreen, colorPurple, colorGr = "#16a34a", "#7c3aed", "#64748b"
)

// svg renders c as an inline SVG element (no xmlns: inline SVG in HTML
// needs none, and the file stays free of URLs).
func (c *chart) svg() template.HTML {
	var b strings.Builder
	top, step := c.yScale()
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" data-points="%s">`,
		c.ID, chartW, chartH, esc(c.Title), esc(c.hoverJSON()))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="18">%s</text>`, padL, esc(c.Title))
	for _, w := range c.Warmup {
		x0, x1 := c.x(w[0]), c.x(w[1])
		fmt.Fprintf(&b, `<rect class="warmup" x="%s" y="%d" width="%s" height="%d"/><text class="warmup-label" x="%s" y="%d">warm-up</text>`,
			f1(x0), padT, f1(math.Max(x1-x0, 1)), plotH, f1(x0+4), padT+12)
	}
	c.yAxis(&b, top, step)
	c.xAxis(&b)
	for _, l := range c.Lines {
		c.path(&b, l, top)
	}
	c.legend(&b)
	fmt.Fprintf(&b, `<line class="cursor" x1="0" x2="0" y1="%d" y2="%d" visibility="hidden"/>`, padT, padT+plotH)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (c *chart) x(sec float64) float64 {
	if c.Span <= 0 {
		return padL
	}
	return padL + sec/c.Span*plotW
}

func (c *chart) y(v, top float64) float64 { return padT + plotH - math.Min(v, top)/top*plotH }

// yScale picks the y axis: a round tick step (1, 2 or 5 times a power of
// ten) and the smallest multiple of it at or above every value.
func (c *chart) yScale() (top, step float64) {
	m := 0.0
	for _, l := range c.Lines {
		if l.Clip {
			continue
		}
		for _, v := range l.Values {
			if !math.IsNaN(v) {
				m = math.Max(m, v)
			}
		}
	}
	if m <= 0 {
		return 1, 0.25
	}
	step = niceStep(m / 4)
	return step * math.Ceil(m/step-1e-9), step
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func (c *chart) yAxis(b *strings.Builder, top, step float64) {
	for i := 0; float64(i)*step <= top*(1+1e-9); i++ {
		v := float64(i) * step
		y := c.y(v, top)
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="tick" x="%d" y="%s" text-anchor="end">%s</text>`,
			padL, padL+plotW, f1(y), f1(y), padL-6, f1(y+4), esc(fmtValue(v, c.Unit)))
	}
}

func (c *chart) xAxis(b *strings.Builder) {
	step := niceStep(c.Span / 8)
	if step < 1 {
		step = 1
	}
	for s := 0.0; s <= c.Span+1e-9; s += step {
		x := c.x(s)
		fmt.Fprintf(b, `<text class="tick" x="%s" y="%d" text-anchor="middle">%s</text>`, f1(x), chartH-8, fmtClock(s))
	}
}

func (c *chart) path(b *strings.Builder, l line, top float64) {
	var d strings.Builder
	pen := false
	n := 0
	for i, v := range l.Values {
		if math.IsNaN(v) {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%s %s", cmd, f1(c.x(c.X[i])), f1(c.y(v, top)))
		pen = true
		n++
	}
	fmt.Fprintf(b, `<path class="line" stroke="%s" d="%s"><title>%s</title></path>`, l.Color, d.String(), esc(l.Name))
	if len(c.X) > markersUpTo {
		return
	}
	for i, v := range l.Values {
		if !math.IsNaN(v) {
			fmt.Fprintf(b, `<circle class="pt" cx="%s" cy="%s" r="2.5" fill="%s"/>`, f1(c.x(c.X[i])), f1(c.y(v, top)), l.Color)
		}
	}
}

func (c *chart) legend(b *strings.Builder) {
	x := chartW - padR
	for i := len(c.Lines) - 1; i >= 0; i-- {
		l := c.Lines[i]
		x -= 14 + 7*len(l.Name) + 16
		fmt.Fprintf(b, `<rect x="%d" y="9" width="10" height="10" fill="%s"/><text class="legend" x="%d" y="18">%s</text>`, x, l.Color, x+14, esc(l.Name))
	}
}

// hoverJSON is what the hover script shows: per bucket, the time and each
// line's value.
func (c *chart) hoverJSON() string {
	type ser struct {
		N string     `json:"n"`
		C string     `json:"c"`
		V []*float64 `json:"v"`
	}
	h := struct {
		U  string    `json:"u"`
		X0 float64   `json:"x0"`
		XW float64   `json:"xw"`
		S  float64   `json:"s"`
		T  []float64 `json:"t"`
		L  []ser     `json:"l"`
	}{U: c.Unit, X0: padL, XW: plotW, S: c.Span, T: c.X}
	for _, l := range c.Lines {
		s := ser{N: l.Name, C: l.Color}
		for _, v := range l.Values {
			if math.IsNaN(v) {
				s.V = append(s.V, nil)
				continue
			}
			r := round3(v)
			s.V = append(s.V, &r)
		}
		h.L = append(h.L, s)
	}
	out, _ := json.Marshal(h) // only floats and our own strings: cannot fail
	return string(out)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func esc(s string) string { return template.HTMLEscapeString(s) }

// fmtClock formats seconds since the start as m:ss (or h:mm:ss).
func fmtClock(s float64) string {
	t := int(math.Round(s))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// fmtValue formats an axis value in unit.
func fmtValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmtMs(v)
	case "/s":
		return fmtNum(v) + "/s"
	}
	return fmtNum(v)
}

// fmtMs formats milliseconds as µs, ms, s or min with three significant
// digits at most.
func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case v < 1:
		return trim(v*1000, 0) + " µs"
	case v < 1000:
		return trim(v, sig(v)) + " ms"
	case v < 60000:
		return trim(v/1000, sig(v/1000)) + " s"
	}
	return trim(v/60000, 1) + " min"
}

// sig is how many decimals keep three significant digits.
func sig(v float64) int {
	switch {
	case v < 10:
		return 2
	case v < 100:
		return 1
	}
	return 0
}

func trim(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fmtNum formats a count or rate compactly: 950, 1.2k, 3.4M.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trim(v/1e6, 1) + "M"
	case a >= 1e4:
		return trim(v/1e3, 0) + "k"
	case a >= 1e3:
		return trim(v/1e3, 1) + "k"
	case a >= 10 || a == 0:
		return trim(v, 0)
	}
	return trim(v, 2)
}
