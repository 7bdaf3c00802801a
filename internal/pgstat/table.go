package pgstat

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// ANSI styles used by the text renderers.
const (
	styleNone     = ""
	styleDim      = "\x1b[2m"
	styleBold     = "\x1b[1m"
	styleYellow   = "\x1b[33m"
	styleRed      = "\x1b[31m"
	styleBoldRed  = "\x1b[1;31m"
	styleCyan     = "\x1b[36m"
	styleReset    = "\x1b[0m"
	columnSpacing = 2
)

// cell is one table cell; style applies only when color is on, and never
// counts toward the width.
type cell struct {
	text  string
	style string
}

// table lays out right-aligned number columns followed by one free,
// left-aligned last column (the plan tree or the query text).
type table struct {
	header []string
	rows   [][]cell
	// extra holds lines printed under a row (node details), already indented
	// to the last column.
	extra map[int][]string
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

func (t *table) addExtra(lines ...string) {
	if t.extra == nil {
		t.extra = map[int][]string{}
	}
	i := len(t.rows) - 1
	t.extra[i] = append(t.extra[i], lines...)
}

func (t *table) widths() []int {
	w := make([]int, len(t.header))
	for i, h := range t.header {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			if n := utf8.RuneCountInString(c.text); n > w[i] {
				w[i] = n
			}
		}
	}
	return w
}

func (t *table) write(out io.Writer, color bool) error {
	w := bufio.NewWriter(out)
	widths := t.widths()
	last := len(widths) - 1
	indent := 0
	for _, n := range widths[:last] {
		indent += n + columnSpacing
	}
	head := make([]cell, len(t.header))
	for i, h := range t.header {
		head[i] = cell{h, styleBold}
	}
	writeRow(w, head, widths, color)
	for i, r := range t.rows {
		writeRow(w, r, widths, color)
		for _, line := range t.extra[i] {
			w.WriteString(strings.Repeat(" ", indent))
			w.WriteString(paint(line, styleDim, color))
			w.WriteByte('\n')
		}
	}
	return w.Flush()
}

func writeRow(w *bufio.Writer, r []cell, widths []int, color bool) {
	last := len(widths) - 1
	for i, c := range r {
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text))
		if i == last {
			w.WriteString(strings.TrimRight(paint(c.text, c.style, color), " "))
			break
		}
		w.WriteString(pad)
		w.WriteString(paint(c.text, c.style, color))
		w.WriteString(strings.Repeat(" ", columnSpacing))
	}
	w.WriteByte('\n')
}

func paint(s, style string, color bool) string {
	if !color || style == "" || s == "" {
		return s
	}
	return style + s + styleReset
}
