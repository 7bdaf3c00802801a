package htmlreport

import (
	_ "embed"
	"html/template"
)

var (
	//go:embed page.html.tmpl
	pageHTML string
	//go:embed style.css
	styleCSS string
	//go:embed script.js
	scriptJS string

	pageTmpl = template.Must(template.New("report").Parse(pageHTML))
)
