package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
)

// ndjsonPoint is one line of --out json.
type ndjsonPoint struct {
	Metric string            `json:"metric"`
	Tags   map[string]string `json:"tags"`
	Count  float64           `json:"count"`
	Sum    float64           `json:"sum"`
}

// ndjsonTotals sums an --out json file: metric → (tag=value or "") → count
// (samples for trends and rates, the sum for counters).
func ndjsonTotals(t *testing.T, path string) map[string]map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p ndjsonPoint
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n := p.Count
		if strings.HasPrefix(p.Metric, "grpc_streams") || strings.HasPrefix(p.Metric, "ws_msgs") || p.Metric == "ws_sessions" {
			n = p.Sum
		}
		if out[p.Metric] == nil {
			out[p.Metric] = map[string]float64{}
		}
		out[p.Metric][""] += n
		for k, v := range p.Tags {
			out[p.Metric][k+"="+v] += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// runScriptOut runs surge run on script with --out json and returns the
// exit code, the output and the totals.
func runScriptOut(t *testing.T, script string, extra ...string) (int, string, map[string]map[string]float64) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "points.ndjson")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"run", "-q", "--no-save", "--out", "json=" + out}, extra...)
	code, stdout, stderr := runCLI(t, ctx, append(args, script)...)
	return code, stdout + stderr, ndjsonTotals(t, out)
}

func startEcho(t *testing.T) string {
	t.Helper()
	srv, err := grpctest.Start(grpctest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv.Addr
}

// TestScriptProtocolsGRPCExample runs examples/grpc/script.js against the
// Echo server: 10 unary calls, 10 bidi streams of 3 replies each, whose
// 'end' handlers ran before their iterations ended.
func TestScriptProtocolsGRPCExample(t *testing.T) {
	t.Setenv("ADDR", startEcho(t))
	code, out, m := runScriptOut(t, filepath.Join("..", "..", "examples", "grpc", "script.js"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		metric, tag string
		want        float64
	}{
		{"grpc_req_duration", "status=0", 10},
		{"grpc_req_duration", "", 10},
		{"grpc_req_duration", "rpc_type=unary", 10},
		{"grpc_streams", "rpc_type=bidi_stream", 10},
		{"grpc_streams_msgs_received", "", 30},
		{"grpc_streams_msgs_sent", "", 30},
		{"checks", "check=three chat replies", 10},
		{"iterations", "", 10},
	} {
		if got := m[c.metric][c.tag]; got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.metric, c.tag, got, c.want)
		}
	}
	for _, w := range []string{"✓ three chat replies", "✓ echoed", "✓ grpc_streams_msgs_received: 'count>=30'"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestScriptProtocolsWSExample runs examples/ws/script.js against the
// WebSocket echo server: 6 sessions, each closed after three echoes.
func TestScriptProtocolsWSExample(t *testing.T) {
	srv := wstest.Start()
	t.Cleanup(srv.Close)
	t.Setenv("URL", srv.URL+"/echo")
	code, out, m := runScriptOut(t, filepath.Join("..", "..", "examples", "ws", "script.js"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if got := m["ws_sessions"]["status=101"]; got != 6 {
		t.Errorf("ws_sessions{status:101} = %v, want 6", got)
	}
	if got := m["ws_msgs_received"][""]; got < 18 || got > m["ws_msgs_sent"][""] {
		t.Errorf("ws_msgs_received = %v, want at least 18 and no more than sent (%v)", got, m["ws_msgs_sent"][""])
	}
	if got := m["ws_ping"][""]; got != 6 {
		t.Errorf("ws_ping samples = %v, want 6 (one ping per session)", got)
	}
	if !strings.Contains(out, "✓ status is 101") {
		t.Errorf("output lacks the check:\n%s", out)
	}
}

func writeProtoScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScriptProtocolsBadInput: mistakes in a script's calls are counted
// exceptions with their message and script line; a proto that does not
// parse is a one-line script error naming file:line:col.
func TestScriptProtocolsBadInput(t *testing.T) {
	protos, err := filepath.Abs(filepath.Join("..", "..", "internal", "protocol", "grpcvu", "grpctest"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ADDR", startEcho(t))
	t.Setenv("PROTOS", protos)
	head := "import grpc from 'k6/net/grpc';\nimport ws from 'k6/ws';\nconst client = new grpc.Client();\nclient.load([__ENV.PROTOS], 'echo.proto');\n" +
		"export const options = { iterations: 2 };\nexport default function () {\n  client.connect(__ENV.ADDR, { plaintext: true });\n  try {\n"
	cases := []struct{ name, body, want string }{
		{"unknown method", "  client.invoke('surge.echo.v1.Echo/Sya', {});", `bad.js:9: GoError: client.invoke: method "surge.echo.v1.Echo/Sya" not found (known: /surge.echo.v1.Echo/Chat`},
		{"off schema", "  client.invoke('surge.echo.v1.Echo/Say', { mesage: 'x' });", `bad.js:9: GoError: client.invoke: request for /surge.echo.v1.Echo/Say does not match surge.echo.v1.EchoRequest`},
		{"closed port grpc", "  const c = new grpc.Client();\n  c.connect('127.0.0.1:1', { plaintext: true, timeout: '2s' });", "bad.js:10: GoError: client.connect:"},
		{"closed port ws", "  ws.connect('ws://127.0.0.1:1/', () => {});", "bad.js:9: GoError: ws.connect: connecting to ws://127.0.0.1:1/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			script := writeProtoScript(t, "bad.js", head+c.body+"\n  } finally {\n    client.close();\n  }\n}\n")
			code, out, m := runScriptOut(t, script)
			if code != ExitIterationErrors {
				t.Fatalf("exit %d, want %d\n%s", code, ExitIterationErrors, out)
			}
			if !strings.Contains(out, "2× exception at") || !strings.Contains(out, c.want) {
				t.Errorf("output lacks the exception, counted twice, with %q:\n%s", c.want, out)
			}
			if m["iterations"][""] != 2 {
				t.Errorf("iterations %v, want 2", m["iterations"][""])
			}
		})
	}
	t.Run("bad proto", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "broken.proto"), []byte("syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(dir, "s.js")
		os.WriteFile(script, []byte("import grpc from 'k6/net/grpc';\nconst c = new grpc.Client();\nc.load(['.'], 'broken.proto');\nexport default function () {}\n"), 0o644)
		code, stdout, stderr := runCLI(t, context.Background(), "run", "-q", "--no-save", script)
		if code != ExitScript || !strings.Contains(stderr, "broken.proto:3:13: syntax error") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Fatalf("exit %d, stderr %q, want %d and one line naming broken.proto:3:13\n%s", code, stderr, ExitScript, stdout)
		}
	})
}

// TestScriptProtocolsSQL runs a surge/sql script against PostgreSQL: one
// pool for all VUs, sql_query_duration counted per query name.
func TestScriptProtocolsSQL(t *testing.T) {
	dsn := os.Getenv("SURGE_TEST_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SURGE_TEST_PG_DSN is not set in CI: test.sh must start PostgreSQL")
		}
		t.Skip("SURGE_TEST_PG_DSN is not set; run ./test.sh or point it at a PostgreSQL")
	}
	t.Setenv("DSN", dsn)
	t.Setenv("TABLE", fmt.Sprintf("surge_cli_sql_%d", time.Now().UnixNano()))
	script := writeProtoScript(t, "sql.js", `import sql from "surge/sql";
import { check } from "k6";
export const options = { vus: 4, iterations: 20 };
const T = __ENV.TABLE;
const db = sql.open(__ENV.DSN, { maxConns: 2, queries: {
  create: "CREATE TABLE " + T + " (id int PRIMARY KEY, name text)",
  drop: "DROP TABLE " + T,
  put: "INSERT INTO " + T + " VALUES ($1, $2)",
  get: "SELECT id, name FROM " + T + " WHERE id = $1",
}});
export function setup() { db.exec("create"); }
export function teardown() { db.exec("drop"); }
export default function () {
  const id = __VU * 1000 + __ITER;
  check(db.exec("put", id, "n" + id), { "one row put": (n) => n === 1 });
  check(db.query("get", id), { "read back": (rows) => rows.length === 1 && rows[0].name === "n" + id });
}
`)
	code, out, m := runScriptOut(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		metric, tag string
		want        float64
	}{
		{"sql_query_duration", "query=put", 20},
		{"sql_query_duration", "query=get", 20},
		{"sql_queries_failed", "query=get", 20},
		{"checks", "check=read back", 20},
	} {
		if got := m[c.metric][c.tag]; got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.metric, c.tag, got, c.want)
		}
	}
	if !strings.Contains(out, "✓ read back") {
		t.Errorf("output lacks the check:\n%s", out)
	}
}
