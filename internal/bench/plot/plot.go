// Package plot draws the pictures of surge bench and surge stats: a
// terminal histogram and a self-contained HTML page of SVG box plots.
//
// Renderers are pure: values in, text out, so they are golden-tested. The
// HTML page has no script and no external resource; it opens offline and
// can be attached to a pull request as is.
package plot

import (
	"fmt"
	"io"
	"strings"

	"github.com/surgeload/surge/internal/bench/stats"
)

// HistogramWidth is the length of the longest bar, in cells.
const HistogramWidth = 40

// Histogram writes h as horizontal bars, one line per bin:
//
//	[ 20.1ms,  20.3ms)  ████████████▌  12
//
// format renders a bin bound. Bars use eighth blocks, so small counts still
// show.
func Histogram(w io.Writer, h stats.Histogram, format func(float64) string) error {
	peak := 0
	for _, c := range h.Counts {
		peak = max(peak, c)
	}
	if peak == 0 {
		_, err := fmt.Fprintln(w, "  (no values)")
		return err
	}
	labels := make([][2]string, len(h.Counts))
	wl, wh := 0, 0
	for i := range h.Counts {
		lo, hi := h.Bin(i)
		labels[i] = [2]string{format(lo), format(hi)}
		wl, wh = max(wl, len([]rune(labels[i][0]))), max(wh, len([]rune(labels[i][1])))
	}
	for i, c := range h.Counts {
		closer := ")"
		if i == len(h.Counts)-1 {
			closer = "]"
		}
		bar := Bar(float64(c) / float64(peak) * HistogramWidth)
		_, err := fmt.Fprintf(w, "  [%s, %s%s  %-*s  %d\n", pad(labels[i][0], wl), pad(labels[i][1], wh), closer, HistogramWidth, bar, c)
		if err != nil {
			return err
		}
	}
	return nil
}

var eighths = []rune(" ▏▎▍▌▋▊▉")

// Bar renders a length in cells with eighth-block precision.
func Bar(cells float64) string {
	n := int(cells * 8)
	s := strings.Repeat("█", n/8)
	if r := n % 8; r > 0 {
		s += string(eighths[r])
	}
	return s
}

func pad(s string, w int) string {
	return strings.Repeat(" ", max(0, w-len([]rune(s)))) + s
}
