package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
)

func TestWSQuick(t *testing.T) {
	srv := wstest.Start()
	defer srv.Close()
	summary := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := runCLI(t, context.Background(), "ws", srv.URL+"/echo", "--send", "hello", "--subprotocol", "chat",
		"-H", "X-Test: 1", "-u", "3", "-i", "30", "--no-save", "-q",
		"--threshold", "ws_msgs_received: count>=30", "--summary-export", summary)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "✓ ws_msgs_received: 'count>=30'") {
		t.Errorf("summary lacks the threshold:\n%s", stdout)
	}
	var sum struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"ws_msgs_sent": 30, "ws_msgs_received": 30, "ws_sessions": 3} {
		if got := sum.Metrics[name]["count"]; got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
}

func TestWSBadInput(t *testing.T) {
	srv := wstest.Start()
	defer srv.Close()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no URL", []string{"ws", "--send", "x"}, ExitUsage, "want one URL (ws:// or wss://), got 0 arguments"},
		{"not ws", []string{"ws", "http://127.0.0.1/", "--send", "x"}, ExitUsage, `want a ws:// or wss:// URL`},
		{"no message", []string{"ws", srv.URL + "/echo"}, ExitUsage, "give the message to send: --send MSG"},
		{"no page", []string{"ws", srv.URL + "/nope", "--send", "x", "-i", "1", "--no-save"}, ExitError, "expected handshake response status code 101 but got 404"},
		{"nobody listening", []string{"ws", "ws://127.0.0.1:1/", "--send", "x", "-i", "1", "--no-save"}, ExitError, "connect: connection refused"},
		{"bad header", []string{"ws", srv.URL + "/echo", "--send", "x", "-H", "nocolon"}, ExitUsage, `--header "nocolon": want 'Name: value'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) || !strings.HasPrefix(stderr, "surge ws: ") {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, stderr)
			}
		})
	}
}
