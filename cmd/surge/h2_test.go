package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// TestRunHTTP2 runs quick tests over HTTP/2 negotiated by TLS ALPN and over
// h2c with prior knowledge; the server sees HTTP/2 and so does the summary's
// proto tag (read back from the NDJSON output).
func TestRunHTTP2(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Proto))
	})
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	h2cSrv := httptest.NewServer(h2c.NewHandler(h, &http2.Server{}))
	defer h2cSrv.Close()
	tests := []struct {
		name string
		args []string
	}{
		{"tls-alpn", []string{"--url", tlsSrv.URL, "--insecure-skip-tls-verify"}},
		{"h2c", []string{"--url", h2cSrv.URL, "--h2c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			points := filepath.Join(t.TempDir(), "p.ndjson")
			args := append([]string{"run", "-u", "3", "-i", "30", "--no-save", "--out", "json=" + points}, tc.args...)
			code, out, stderr := runCLI(t, context.Background(), args...)
			if code != 0 || !strings.Contains(out, "30(") && !strings.Contains(out, " 30 ") {
				t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
			}
			data, _ := os.ReadFile(points)
			protos := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				var l struct {
					Metric string            `json:"metric"`
					Tags   map[string]string `json:"tags"`
				}
				json.Unmarshal([]byte(line), &l)
				if l.Metric == "http_reqs" {
					protos[l.Tags["proto"]] = true
				}
			}
			if len(protos) != 1 || !protos["HTTP/2.0"] {
				t.Errorf("proto tags %v, want only HTTP/2.0", protos)
			}
		})
	}
	// without skipping verification, the self-signed certificate is a
	// failed request with a TLS error, and the run goes on
	code, out, _ := runCLI(t, context.Background(), "run", "--url", tlsSrv.URL, "-i", "3", "--no-save")
	if code != 0 || !strings.Contains(out, "3(100.00%)") || !strings.Contains(strings.ToLower(out), "certificate") {
		t.Errorf("exit %d; want 3 failed requests naming the certificate problem:\n%s", code, out)
	}
}
