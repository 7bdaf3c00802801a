package bench

import (
	"io"
	"strings"
	"unicode/utf8"
)

// grid lays out text in aligned columns. Column 0 is left-aligned; the
// others are right-aligned unless marked left.
type grid struct {
	rows [][]string
	left map[int]bool
	sep  string
	seps map[int]string // separator before column i, when not sep
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

func (g *grid) write(w io.Writer) error {
	var widths []int
	for _, r := range g.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range g.rows {
		var line strings.Builder
		for i, c := range r {
			if sep, ok := g.seps[i]; ok {
				line.WriteString(sep)
			} else if i > 0 {
				line.WriteString(g.sep)
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 || g.left[i] {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
