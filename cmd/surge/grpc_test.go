package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"google.golang.org/grpc/credentials"
)

func grpcServer(t *testing.T, o grpctest.Options) *grpctest.Server {
	t.Helper()
	srv, err := grpctest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

const echoProtoDir = "../../internal/protocol/grpcvu/grpctest"

func TestGRPCQuick(t *testing.T) {
	srv := grpcServer(t, grpctest.Options{})
	tests := []struct {
		name   string
		schema []string
	}{
		{"reflection", nil},
		{"proto file", []string{"--proto", "echo.proto", "--import-path", echoProtoDir}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary.json")
			args := append([]string{"grpc", srv.Addr, "--plaintext", "--method", "surge.echo.v1.Echo/Say",
				"--data", `{"message":"hi"}`, "-H", "x-run: test", "-u", "4", "-i", "40", "--connections", "2", "--no-save", "-q",
				"--threshold", "grpc_req_duration{status:0}: p(95)<5000", "--summary-export", summary}, tc.schema...)
			code, stdout, stderr := runCLI(t, context.Background(), args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "✓ grpc_req_duration{status:0}: 'p(95)<5000'") {
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
			if n := sum.Metrics["iterations"]["count"]; n != 40.0 {
				t.Errorf("iterations %v, want 40", n)
			}
			if p := sum.Metrics["grpc_req_duration"]["p(95)"]; p == nil || p.(float64) <= 0 {
				t.Errorf("grpc_req_duration %v", sum.Metrics["grpc_req_duration"])
			}
		})
	}
}

func TestGRPCQuickStream(t *testing.T) {
	srv := grpcServer(t, grpctest.Options{})
	summary := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := runCLI(t, context.Background(), "grpc", srv.Addr, "--plaintext", "--method", "surge.echo.v1.Echo/Chat",
		"--data", `[{"message":"a"},{"message":"b"},{"message":"c"}]`, "-u", "2", "-i", "10", "--no-save", "-q", "--summary-export", summary)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
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
	for name, want := range map[string]float64{"grpc_streams": 10, "grpc_streams_msgs_sent": 30, "grpc_streams_msgs_received": 30} {
		if got := sum.Metrics[name]["count"]; got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
}

func TestGRPCQuickFailures(t *testing.T) {
	srv := grpcServer(t, grpctest.Options{})
	// Calls that fail on the server are samples: the run succeeds unless a
	// threshold says otherwise.
	code, stdout, stderr := runCLI(t, context.Background(), "grpc", srv.Addr, "--plaintext", "--method", "surge.echo.v1.Echo/Say",
		"--data", `{"fail_code":14}`, "-i", "10", "--no-save", "-q", "--threshold", "grpc_req_duration{status:14}: max<0")
	if code != ExitThresholdsFailed {
		t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, ExitThresholdsFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "10× grpc at /surge.echo.v1.Echo/Say: Unavailable: failing as asked") {
		t.Errorf("summary lacks the counted errors:\n%s", stdout)
	}
}

func TestGRPCBadInput(t *testing.T) {
	srv := grpcServer(t, grpctest.Options{})
	cert, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := grpcServer(t, grpctest.Options{TLS: credentials.NewServerTLSFromCert(&cert.TLS)})
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.proto")
	os.WriteFile(broken, []byte("syntax = \"proto3\";\nmessage A {\n  string a = 1\n}\n"), 0o644)
	say := []string{"--method", "surge.echo.v1.Echo/Say", "-i", "1", "--no-save", "-q"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no address", []string{"grpc", "--method", "a.B/C"}, ExitUsage, "want one ADDR (host:port), got 0 arguments"},
		{"no method", []string{"grpc", srv.Addr, "--plaintext"}, ExitUsage, "give the method to call: --method pkg.Service/Method"},
		{"unknown method", append([]string{"grpc", srv.Addr, "--plaintext", "--method", "surge.echo.v1.Echo/Shout"}, say[2:]...), ExitUsage,
			`method "surge.echo.v1.Echo/Shout" not found (known: /grpc.health.v1.Health/Check,`},
		{"request off the schema", append([]string{"grpc", srv.Addr, "--plaintext", "--data", `{"mesage":"x"}`}, say...), ExitUsage,
			`does not match surge.echo.v1.EchoRequest: (line 1:2): unknown field "mesage"`},
		{"stream messages not an array", append([]string{"grpc", srv.Addr, "--plaintext", "--method", "surge.echo.v1.Echo/Chat", "--data", `[{"message":"a"`}, say[2:]...), ExitUsage,
			"stream /surge.echo.v1.Echo/Chat: the messages are not a JSON array"},
		{"proto that does not parse", append([]string{"grpc", srv.Addr, "--plaintext", "--proto", broken}, say...), ExitUsage,
			"--proto: loading protos: " + broken + ":4:1: syntax error: expecting ';'"},
		{"protoset missing", append([]string{"grpc", srv.Addr, "--plaintext", "--protoset", filepath.Join(dir, "none.protoset")}, say...), ExitUsage,
			"--protoset: loading protoset: open "},
		{"nobody listening", append([]string{"grpc", "127.0.0.1:1", "--plaintext"}, say...), ExitError,
			"connecting to 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"untrusted certificate", append([]string{"grpc", tlsSrv.Addr}, say...), ExitError,
			"TLS handshake: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"plaintext to TLS", append([]string{"grpc", tlsSrv.Addr, "--plaintext"}, say...), ExitError,
			"a TLS server and a plaintext client"},
		{"cert without key", append([]string{"grpc", tlsSrv.Addr, "--cert", broken}, say...), ExitUsage, "--cert and --key go together"},
		{"bad metadata", append([]string{"grpc", srv.Addr, "--plaintext", "--metadata", "novalue"}, say...), ExitUsage, `--metadata "novalue": want 'key: value'`},
		{"data twice", append([]string{"grpc", srv.Addr, "--plaintext", "--data", "{}", "--data-file", broken}, say...), ExitUsage, "give --data or --data-file, not both"},
		{"rate without duration", []string{"grpc", srv.Addr, "--plaintext", "--method", "a.B/C", "--rate", "10"}, ExitUsage, "--rate needs --duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) || !strings.HasPrefix(stderr, "surge grpc: ") {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, stderr)
			}
		})
	}
}

func TestGRPCMutualTLS(t *testing.T) {
	server, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	client, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	srv := grpcServer(t, grpctest.Options{TLS: credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{server.TLS},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: client.Pool})})
	dir := t.TempDir()
	files := map[string][]byte{"ca.pem": server.PEM, "client.pem": client.PEM, "client.key": client.Key}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, context.Background(), "grpc", srv.Addr, "--cacert", filepath.Join(dir, "ca.pem"),
		"--cert", filepath.Join(dir, "client.pem"), "--key", filepath.Join(dir, "client.key"),
		"--method", "surge.echo.v1.Echo/Say", "-i", "3", "--no-save", "-q", "--threshold", "grpc_req_duration{status:0}: p(95)<5000")
	if code != 0 || !strings.Contains(stdout, "✓ grpc_req_duration{status:0}") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	// Without the client certificate the server refuses.
	code, _, stderr = runCLI(t, context.Background(), "grpc", srv.Addr, "--cacert", filepath.Join(dir, "ca.pem"),
		"--method", "surge.echo.v1.Echo/Say", "-i", "1", "--no-save", "-q")
	if code != ExitError || !strings.Contains(stderr, "connecting to "+srv.Addr) {
		t.Errorf("without a client certificate: exit %d, stderr %q", code, stderr)
	}
}

// TestRunGRPCFlag: surge run --grpc ADDR is the same quick test as surge grpc.
func TestRunGRPCFlag(t *testing.T) {
	srv := grpcServer(t, grpctest.Options{})
	code, stdout, stderr := runCLI(t, context.Background(), "run", "-i", "10", "--grpc", srv.Addr, "--plaintext",
		"--method", "surge.echo.v1.Echo/Say", "--data", `{"message":"hi"}`, "--no-save")
	if code != 0 || !strings.Contains(stdout, "grpc_req_duration") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
