package dashboard

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/surgeload/surge/internal/report"
)

// AttachmentInfo lists one profile or SQL section for the page. Its HTML,
// which may carry scripts (flame graphs), is served as a page of its own
// at api/attachments/ID and shown in a frame: markup set with innerHTML
// would not run them.
type AttachmentInfo struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"` // "profiles" or "sql": the tab it goes to
	Text  string `json:"text"`
	HTML  bool   `json:"html"`
}

// attachmentKind sorts a section into the Profiles or the SQL tab by its
// title (the runner's "SQL DURING THE TEST", "PLAN OF …"); anything else
// recorded about the system under test goes with the profiles.
func attachmentKind(title string) string {
	t := strings.ToUpper(title)
	for _, w := range []string{"SQL", "PLAN", "QUERY", "STATEMENT"} {
		if strings.Contains(t, w) {
			return "sql"
		}
	}
	return "profiles"
}

func attachmentInfos(list []report.Attachment) []AttachmentInfo {
	out := make([]AttachmentInfo, 0, len(list))
	for i, a := range list {
		out = append(out, AttachmentInfo{ID: i, Title: a.Title, Kind: attachmentKind(a.Title), Text: a.Text, HTML: a.HTML != ""})
	}
	return out
}

// Attach shows a section recorded while the run goes, such as the profile
// of a stage that just ended. It may be called from any goroutine; Finish
// replaces what was attached with the summary's complete sections.
func (s *Server) Attach(a report.Attachment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.attached = append(s.attached, a)
	s.broadcastLocked("attachments", attachmentInfos(s.attached))
}

var attachmentPage = template.Must(template.New("attachment").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{margin:0;padding:6px 10px;font:13px/1.4 system-ui,sans-serif;color:#1d2430;background:#fff}
pre{white-space:pre-wrap;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:0}</style>
</head><body>{{if .HTML}}{{.HTML}}{{else}}<pre>{{.Text}}</pre>{{end}}</body></html>
`))

// handleAttachment serves one section as a page of its own.
func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	var a report.Attachment
	ok := err == nil && id >= 0 && id < len(s.attached)
	if ok {
		a = s.attached[id]
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "dashboard: no attachment "+strconv.Quote(r.PathValue("id"))+": the list is at api/state", http.StatusNotFound)
		return
	}
	var b bytes.Buffer
	if err := attachmentPage.Execute(&b, a); err != nil {
		http.Error(w, "dashboard: rendering attachment: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// handleReport serves the HTML report of the finished run, rendered once.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sum, finished := s.sum, s.finished
	s.mu.Unlock()
	switch {
	case s.o.Report == nil:
		http.Error(w, "dashboard: this dashboard cannot render the HTML report (write it with --report FILE.html)", http.StatusNotFound)
		return
	case !finished:
		http.Error(w, "dashboard: the HTML report is ready when the run has finished", http.StatusConflict)
		return
	case sum == nil:
		http.Error(w, "dashboard: the run failed before it had results: no HTML report", http.StatusConflict)
		return
	}
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	if s.reportHTML == nil {
		var b bytes.Buffer
		if err := s.o.Report(&b, sum); err != nil {
			http.Error(w, "dashboard: rendering the HTML report: "+err.Error(), http.StatusInternalServerError)
			return
		}
		s.reportHTML = b.Bytes()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="surge_report.html"`)
	w.Write(s.reportHTML)
}
