package pgstat

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// htmlStyle is scoped to .surge-pg so the fragment can sit in any page.
const htmlStyle = `<style>
.surge-pg{font:13px/1.4 system-ui,sans-serif;color:#222;margin:1em 0}
.surge-pg h3{margin:.2em 0}
.surge-pg .sum{color:#555;margin:.2em 0 .6em}
.surge-pg table{border-collapse:collapse;width:100%}
.surge-pg th,.surge-pg td{padding:2px 6px;border-bottom:1px solid #eee;vertical-align:top}
.surge-pg th{text-align:right;background:#f6f6f6;font-weight:600;white-space:nowrap}
.surge-pg td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.surge-pg td.node,.surge-pg th.node{text-align:left}
.surge-pg .bar{height:4px;background:#e33;margin-top:2px}
.surge-pg .det{color:#777;font-size:12px;font-family:ui-monospace,monospace}
.surge-pg .sub{color:#07c;font-size:12px}
.surge-pg .info{color:#a60}.surge-pg .warning{color:#d33}.surge-pg .critical{color:#b00;font-weight:700}
.surge-pg .dim{color:#aaa}
.surge-pg pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;margin:.3em 0}
.surge-pg ul{margin:.4em 0;padding-left:1.2em}
</style>`

var htmlTmpl = template.Must(template.New("plan").Parse(htmlStyle + `
<section class="surge-pg surge-pg-plan">
<h3>Query plan</h3>
{{if .Query}}<pre>{{.Query}}</pre>{{end}}
<p class="sum">{{.Summary}}{{if .Note}}<br>{{.Note}}{{end}}</p>
<table>
<thead><tr>{{range .Header}}<th{{if eq . "node"}} class="node"{{end}}>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .Cells}}<td class="n{{if .Class}} {{.Class}}{{end}}">{{.Text}}</td>{{end}}<td class="node" style="padding-left:{{.Indent}}em">
{{if .Subplan}}<span class="sub">{{.Subplan}}</span> {{end}}<span{{if not .Executed}} class="dim"{{end}}>{{.Name}}</span>
{{if .Bar}}<div class="bar" style="width:{{.Bar}}%"></div>{{end}}
{{range .Details}}<div class="det">{{.}}</div>{{end}}</td></tr>
{{end}}</tbody>
</table>
{{if .Findings}}<h4>Findings</h4><ul>
{{range .Findings}}<li><span class="{{.Severity}}">{{.Severity}}</span> {{if .Node}}#{{.Node}} {{end}}{{.Message}}</li>
{{end}}</ul>{{else}}<p>No findings.</p>{{end}}
</section>
`))

type htmlCell struct{ Text, Class string }

type htmlRow struct {
	Cells    []htmlCell
	Indent   int
	Subplan  string
	Name     string
	Executed bool
	Bar      string // width of the self-time bar, in percent
	Details  []string
}

// WriteHTMLSection writes the plan as a self-contained HTML fragment (its
// own scoped <style>, no scripts, no external resources) for the report to
// embed.
func WriteHTMLSection(w io.Writer, p *Plan) error {
	data := struct {
		Query, Summary, Note string
		Header               []string
		Rows                 []htmlRow
		Findings             []Finding
	}{Query: p.Query, Summary: summaryLine(p), Note: p.Note, Findings: p.Findings}
	t := planTable(p)
	data.Header = t.header
	for i, n := range p.Nodes {
		cells := t.rows[i][:len(t.rows[i])-1]
		row := htmlRow{Indent: n.Depth + 1, Subplan: n.SubplanName, Name: nodeName(n),
			Executed: n.Executed() || !p.Analyzed, Details: details(n)}
		if n.SubplanName != "" {
			row.Name = strings.TrimPrefix(row.Name, "["+n.SubplanName+"] ")
		}
		for _, c := range cells {
			row.Cells = append(row.Cells, htmlCell{c.text, styleClass(c.style)})
		}
		if p.Analyzed && p.Total > 0 && n.Exclusive > 0 {
			row.Bar = fmt.Sprintf("%.1f", math.Min(100, 100*n.Exclusive/p.Total))
		}
		data.Rows = append(data.Rows, row)
	}
	return htmlTmpl.Execute(w, data)
}

func styleClass(style string) string {
	switch style {
	case styleYellow:
		return "info"
	case styleRed:
		return "warning"
	case styleBoldRed:
		return "critical"
	case styleDim:
		return "dim"
	}
	return ""
}

func summaryLine(p *Plan) string { return strings.Join(summaryParts(p), " · ") }
