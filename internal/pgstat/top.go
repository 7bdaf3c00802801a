package pgstat

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// TopOptions control the rendering of the top statements.
type TopOptions struct {
	// Limit is the number of statements shown; 0 shows all.
	Limit int
	// By names the ordering, for the title (see Orderings).
	By string
	// Window is the length of the diffed window; 0 means cumulative
	// statistics since the last reset.
	Window time.Duration
	// QueryWidth truncates the query text; 0 means DefaultQueryWidth.
	QueryWidth int
	Color      bool
}

// DefaultQueryWidth is how much of a statement's text the terminal shows.
const DefaultQueryWidth = 80

// topTitle is the line above the table.
func topTitle(stats []QueryStat, opt TopOptions) string {
	var calls int64
	var total float64
	for _, q := range stats {
		if q.TopLevel {
			calls += q.Calls
			total += q.TotalMs
		}
	}
	span := "since the statistics were last reset"
	if opt.Window > 0 {
		span = "in the last " + opt.Window.Round(time.Millisecond).String()
	}
	by := opt.By
	if by == "" {
		by = "total"
	}
	return fmt.Sprintf("pg_stat_statements: %d statements, %s calls, %s ms %s; top by %s",
		len(stats), fmtCount(float64(calls)), fmtMs(total), span, by)
}

func limited(stats []QueryStat, limit int) []QueryStat {
	if limit > 0 && len(stats) > limit {
		return stats[:limit]
	}
	return stats
}

// WriteTopText renders statements (already ordered, see Sort) as a table
// for the terminal.
func WriteTopText(out io.Writer, stats []QueryStat, opt TopOptions) error {
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, paint(topTitle(stats, opt), styleBold, opt.Color))
	if len(stats) == 0 {
		fmt.Fprintln(w, "no statements ran")
		return w.Flush()
	}
	fmt.Fprintln(w)
	if err := w.Flush(); err != nil {
		return err
	}
	width := opt.QueryWidth
	if width <= 0 {
		width = DefaultQueryWidth
	}
	t := &table{header: []string{"#", "total ms", "share", "calls", "mean ms", "stddev ms", "rows",
		"hit %", "temp blks", "query"}}
	for i, q := range limited(stats, opt.Limit) {
		hit := cell{fmtPct(q.HitRatio()), styleNone}
		if q.HitRatio() < 0.9 {
			hit.style = styleYellow
		}
		temp := cell{fmtCount(float64(q.TempRead + q.TempWritten)), styleNone}
		if q.TempRead+q.TempWritten > 0 {
			temp.style = styleYellow
		}
		t.add(cell{fmt.Sprint(i + 1), styleDim}, cell{fmtMs(q.TotalMs), styleNone},
			cell{fmtPct(q.Share), levelStyle(q.Share, TimeShares)}, cell{fmtCount(float64(q.Calls)), styleNone},
			cell{fmtMs(q.MeanMs), styleNone}, cell{fmtMs(q.StddevMs), styleNone},
			cell{fmtCount(float64(q.Rows)), styleNone}, hit, temp,
			cell{shorten(q.Query, width), styleNone})
	}
	return t.write(out, opt.Color)
}

// shorten folds a statement onto one line and cuts it to width runes.
func shorten(q string, width int) string {
	q = strings.Join(strings.Fields(q), " ")
	r := []rune(q)
	if len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return q
}

var topTmpl = template.Must(template.New("top").Parse(htmlStyle + `
<section class="surge-pg surge-pg-top">
<h3>Top SQL statements</h3>
<p class="sum">{{.Title}}</p>
{{if .Rows}}<table>
<thead><tr><th>#</th><th>total ms</th><th>share</th><th>calls</th><th>mean ms</th><th>stddev ms</th><th>rows</th><th>hit %</th><th>temp blks</th><th class="node">query</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td class="n dim">{{.N}}</td><td class="n">{{.Total}}</td><td class="n {{.ShareClass}}">{{.Share}}<div class="bar" style="width:{{.Bar}}%"></div></td><td class="n">{{.Calls}}</td><td class="n">{{.Mean}}</td><td class="n">{{.Stddev}}</td><td class="n">{{.Rows}}</td><td class="n">{{.Hit}}</td><td class="n">{{.Temp}}</td><td class="node"><span class="det">{{.Query}}</span></td></tr>
{{end}}</tbody>
</table>{{else}}<p>No statements ran.</p>{{end}}
</section>
`))

// WriteTopHTML renders statements as a self-contained HTML fragment for the
// report.
func WriteTopHTML(w io.Writer, stats []QueryStat, opt TopOptions) error {
	type row struct {
		N                                                        int
		Total, Share, ShareClass, Bar, Calls, Mean, Stddev, Rows string
		Hit, Temp, Query                                         string
	}
	data := struct {
		Title string
		Rows  []row
	}{Title: topTitle(stats, opt)}
	for i, q := range limited(stats, opt.Limit) {
		data.Rows = append(data.Rows, row{N: i + 1, Total: fmtMs(q.TotalMs), Share: fmtPct(q.Share),
			ShareClass: styleClass(levelStyle(q.Share, TimeShares)), Bar: fmt.Sprintf("%.1f", 100*q.Share),
			Calls: fmtCount(float64(q.Calls)), Mean: fmtMs(q.MeanMs), Stddev: fmtMs(q.StddevMs),
			Rows: fmtCount(float64(q.Rows)), Hit: fmtPct(q.HitRatio()),
			Temp: fmtCount(float64(q.TempRead + q.TempWritten)), Query: shorten(q.Query, 400)})
	}
	return topTmpl.Execute(w, data)
}
