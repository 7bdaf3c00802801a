package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// reportServer answers /slow after 20 ms, /fail with 500 and anything else
// at once.
func reportServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(20 * time.Millisecond)
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// reportExternalRef matches anything a browser would fetch off the file.
var reportExternalRef = regexp.MustCompile(`(?i)https?:|\bsrc=|<link\b|@import|url\(`)

func TestReportFromRun(t *testing.T) {
	srv := reportServer(t)
	path := filepath.Join(t.TempDir(), "run.html")
	var out, errb bytes.Buffer
	code := Main(context.Background(), &out, &errb, []string{"run", "--url", srv.URL + "/slow", "-u", "2", "-d", "2s",
		"--threshold", "http_req_duration: p(95)<5000", "--report", path, "--quiet"})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		"thresholds passed", `id="chart-rate"`, `id="chart-latency"`, `id="chart-vus"`,
		`<td class="name">` + srv.URL + `/slow</td>`, "surge version", Version,
		"<th>threshold</th><td><code>http_req_duration: p(95)&lt;5000</code>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Each request took at least 20 ms, so the table's median says so.
	med := regexp.MustCompile(`<td class="name">[^<]*/slow</td>(?:<td class="num" data-v="[^"]*">[^<]*</td>){5}<td class="num" data-v="([0-9.]+)"`).FindStringSubmatch(html)
	if med == nil {
		t.Fatal("no median cell for /slow")
	}
	if v, err := strconv.ParseFloat(med[1], 64); err != nil || v < 20 || v > 5000 {
		t.Errorf("median of /slow = %s ms, want ≥ 20 ms", med[1])
	}
	// The only URLs in the file are the ones the user gave (the request name).
	if m := reportExternalRef.FindAllString(strings.ReplaceAll(html, srv.URL, "TARGET"), 3); m != nil {
		t.Errorf("report references outside resources: %q", m)
	}
	if strings.Count(html, "<path class=\"line\"") != 7 {
		t.Errorf("want 7 chart lines (requests, failures, p50, p95, p99, max, VUs)")
	}
}

func TestReportWriteErrors(t *testing.T) {
	srv := reportServer(t)
	// a missing directory is created (as --save does); one under a regular
	// file cannot be
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(file, "r.html")
	var out, errb bytes.Buffer
	code := Main(context.Background(), &out, &errb, []string{"run", "--url", srv.URL, "-i", "1", "--report", missing, "--quiet", "--no-summary"})
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	want := `surge run: writing report: creating "` + missing + `": `
	if !strings.HasPrefix(errb.String(), want) || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", errb.String(), want)
	}
}

func TestReportFileReplacedAtomically(t *testing.T) {
	reg := metrics.NewRegistry()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg.Start(start, 0)
	reg.Set(reg.Builtin.VUs, reg.Intern(), 1)
	reg.Tick(start.Add(time.Second))
	sum := report.Build(reg, &engine.Result{Start: start, End: start.Add(time.Second)}, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeHTMLReport(path, sum, reg, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
		t.Errorf("report not replaced: %.40q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left in the directory, want only the report", len(entries))
	}
}

func TestReportFlagConfig(t *testing.T) {
	f := runFlags{url: "http://user:secret@127.0.0.1:8080/x", method: "POST", vus: 5, duration: 30 * time.Second,
		headers: listFlag{"Authorization: Bearer tok123"}, body: `{"a":1}`, thresholds: listFlag{"http_req_failed: rate<0.01"},
		timeout: 10 * time.Second}
	got := flagConfig(&f)
	want := map[string]string{
		"url": "http://user:xxxxx@127.0.0.1:8080/x", "method": "POST", "vus": "5", "duration": "30s",
		"header": "Authorization: …", "body": "(7 bytes)", "threshold": "http_req_failed: rate<0.01", "timeout": "10s",
	}
	if len(got) != len(want) {
		t.Errorf("config = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("config[%q] = %q, want %q", k, got[k], v)
		}
	}
	for _, v := range got {
		if strings.Contains(v, "secret") || strings.Contains(v, "tok123") {
			t.Errorf("a secret leaked into the report's configuration: %q", v)
		}
	}
}
