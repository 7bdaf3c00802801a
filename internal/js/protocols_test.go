package js

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
)

func startGRPC(t *testing.T) string {
	t.Helper()
	srv, err := grpctest.Start(grpctest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv.Addr
}

// protoDir is grpctest's directory, where echo.proto is.
func protoDir(t *testing.T) string {
	d, err := filepath.Abs("../protocol/grpcvu/grpctest")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func exceptions(reg *metrics.Registry) []string {
	entries, _ := reg.Errors.Entries()
	var out []string
	for _, e := range entries {
		out = append(out, e.Kind+": "+e.Message+" at "+e.Where)
	}
	return out
}

func TestGRPCModule(t *testing.T) {
	addr := startGRPC(t)
	src := `import grpc from "k6/net/grpc";
import { check } from "k6";
export const options = { iterations: 4, vus: 2 };
const client = new grpc.Client();
const methods = client.load([__ENV.PROTOS], "echo.proto");
if (methods.length !== 4) throw new Error("methods " + methods);
export default async function () {
  client.connect(__ENV.ADDR, { plaintext: true, timeout: "5s" });
  const r = client.invoke("surge.echo.v1.Echo/Say", { message: "hi" }, { metadata: { "x-a": "1" }, tags: { kind: "sync" } });
  if (r.status !== grpc.StatusOK || r.message.message !== "hi" || r.error !== null) throw new Error("say: " + JSON.stringify(r));
  if (!JSON.stringify(r).startsWith('{"status":0,"message":{"message":"hi","index":0},"headers":{')) throw new Error("stringify: " + JSON.stringify(r));
  const bad = client.invoke("surge.echo.v1.Echo/Say", { message: "x", failCode: 5 });
  if (bad.status !== grpc.StatusNotFound || bad.error.code !== 5) throw new Error("fail: " + JSON.stringify(bad));
  const first = client.asyncInvoke("surge.echo.v1.Echo/Say", { message: "then" }).then((r) => check(r, { "then ran": (r) => r.message.message === "then" }));
  const a = await client.asyncInvoke("surge.echo.v1.Echo/Say", { message: "async" });
  if (a.message.message !== "async") throw new Error("async: " + JSON.stringify(a));
  const h = client.healthCheck();
  if (h.message.status !== grpc.HealthCheckServing) throw new Error("health " + JSON.stringify(h));
  const s = new grpc.Stream(client, "surge.echo.v1.Echo/Repeat");
  let got = [];
  s.on("data", (m) => got.push(m.index));
  s.on("end", () => {
    check(got, { "three replies in order": (g) => g.join(",") === "1,2,3" });
    first.then(() => client.close()); // not before the unawaited call is answered
  });
  s.write({ message: "r", repeat: 3 });
}`
	res, reg := run(t, src, Config{Env: map[string]string{"ADDR": addr, "PROTOS": protoDir(t)}}, nil)
	if res.Exceptions != 0 || res.Iterations != 4 {
		t.Fatalf("iterations %d, exceptions %d: %v", res.Iterations, res.Exceptions, exceptions(reg))
	}
	dur := reg.Get("grpc_req_duration")
	if n := reg.Total(dur, metrics.Tag{Key: "status", Value: "0"}).Count; n != 12 {
		t.Errorf("grpc_req_duration{status:0} count %d, want 12 (say and two asyncInvokes × 4)", n)
	}
	if n := reg.Total(dur, metrics.Tag{Key: "status", Value: "5"}).Count; n != 4 {
		t.Errorf("grpc_req_duration{status:5} count %d, want 4", n)
	}
	if n := reg.Total(dur, metrics.Tag{Key: "kind", Value: "sync"}).Count; n != 4 {
		t.Errorf("grpc_req_duration{kind:sync} count %d, want 4", n)
	}
	if n := reg.Total(reg.Get("grpc_streams_msgs_received")).Sum; n != 12 {
		t.Errorf("grpc_streams_msgs_received %v, want 12", n)
	}
	if c := reg.Total(reg.Builtin.Checks); c.Count != 8 || c.Nonzero != 8 {
		t.Errorf("stream end and then() checks %d of %d passed, want 8 of 8 (handlers ran before the iteration ended)", c.Nonzero, c.Count)
	}
}

func TestGRPCModuleErrors(t *testing.T) {
	addr := startGRPC(t)
	broken := filepath.Join(t.TempDir(), "broken.proto")
	if err := os.WriteFile(broken, []byte("syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	head := `import grpc from "k6/net/grpc";
const client = new grpc.Client();
client.load([__ENV.PROTOS], "echo.proto");
export const options = { iterations: 1 };
export default function () {
  client.connect(__ENV.ADDR, { plaintext: true, timeout: "2s" });
`
	cases := []struct{ name, body, want string }{
		{"unknown method", `client.invoke("surge.echo.v1.Echo/Nope", {});`, `method "surge.echo.v1.Echo/Nope" not found (known: /surge.echo.v1.Echo/Chat`},
		{"off schema", `client.invoke("surge.echo.v1.Echo/Say", { mesage: "x" });`, `does not match surge.echo.v1.EchoRequest`},
		{"unary as stream", `new grpc.Stream(client, "surge.echo.v1.Echo/Say");`, `a unary method; use invoke`},
		{"stream write off schema", `const s = new grpc.Stream(client, "surge.echo.v1.Echo/Chat"); s.write({ repeat: "many" });`, `stream.write: stream write: request for /surge.echo.v1.Echo/Chat does not match`},
		{"handler throws", `const s = new grpc.Stream(client, "surge.echo.v1.Echo/Repeat"); s.on("data", () => { throw new Error("in handler"); }); s.write({ message: "a", repeat: 1 });`, `in handler`},
		{"closed port", `const c2 = new grpc.Client(); c2.connect("127.0.0.1:1", { plaintext: true, timeout: "2s" });`, `client.connect:`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, reg := run(t, head+"  "+c.body+"\n}\n", Config{Env: map[string]string{"ADDR": addr, "PROTOS": protoDir(t)}}, nil)
			ex := exceptions(reg)
			if res.Exceptions != 1 || len(ex) == 0 || !strings.Contains(ex[0], c.want) {
				t.Fatalf("exceptions %d %q, want one with %q", res.Exceptions, ex, c.want)
			}
			if !strings.Contains(ex[0], "test.js:") {
				t.Errorf("exception %q has no script line", ex[0])
			}
		})
	}
	t.Run("bad proto", func(t *testing.T) {
		_, err := load(t, "test.js", `import grpc from "k6/net/grpc";
const client = new grpc.Client();
client.load([__ENV.DIR], "broken.proto");
export default function () {}`, Config{Env: map[string]string{"DIR": filepath.Dir(broken)}})
		if err == nil || !strings.Contains(err.Error(), "broken.proto:3:13: syntax error") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %v, want one line naming broken.proto:3:13", err)
		}
	})
}

func TestWSModule(t *testing.T) {
	srv := wstest.Start()
	t.Cleanup(srv.Close)
	src := `import ws from "k6/ws";
import { check } from "k6";
export const options = { iterations: 4, vus: 2 };
export default function () {
  let echoes = 0, pongs = 0, bin = 0, closed = 0;
  const res = ws.connect(__ENV.URL + "/echo", { headers: { "X-Test": "t1" }, subprotocols: ["chat"], tags: { kind: "k6ws" } }, (socket) => {
    socket.on("open", () => {
      socket.ping();
      socket.send("hello");
      socket.sendBinary(new Uint8Array([1, 2, 3]).buffer);
      socket.setInterval(() => socket.send("tick"), 5);
    });
    socket.on("message", (m) => { if (++echoes === 3) socket.close(); });
    socket.on("binaryMessage", (b) => { bin = b.byteLength; });
    socket.on("pong", () => { pongs++; });
    socket.on("close", (code) => { closed = code; });
    socket.setTimeout(() => socket.close(), 5000);
  });
  check(res, {
    "101": (r) => r.status === 101,
    "header": (r) => r.headers["X-Echo-Test"] === "t1",
    "subprotocol": (r) => r.subprotocol === "chat",
  });
  check(null, { "three echoes": () => echoes >= 3, "binary echo": () => bin === 3, "closed 1000": () => closed === 1000 });
}`
	res, reg := run(t, src, Config{Env: map[string]string{"URL": srv.URL}}, nil)
	if res.Exceptions != 0 || res.Iterations != 4 {
		t.Fatalf("iterations %d, exceptions %d: %v", res.Iterations, res.Exceptions, exceptions(reg))
	}
	if c := reg.Total(reg.Builtin.Checks); c.Count != 24 || c.Nonzero != 24 {
		t.Errorf("checks %d of %d passed, want 24 of 24", c.Nonzero, c.Count)
	}
	if n := reg.Total(reg.Get("ws_sessions"), metrics.Tag{Key: "kind", Value: "k6ws"}).Sum; n != 4 {
		t.Errorf("ws_sessions{kind:k6ws} %v, want 4", n)
	}
	if n := reg.Total(reg.Get("ws_msgs_received")).Sum; n < 16 {
		t.Errorf("ws_msgs_received %v, want at least 16 (3 text and 1 binary echo per session)", n)
	}
}

func TestWSModuleErrors(t *testing.T) {
	srv := wstest.Start()
	t.Cleanup(srv.Close)
	cases := []struct{ name, body, want string }{
		{"closed port", `ws.connect("ws://127.0.0.1:1/echo", {}, () => {});`, "ws.connect: connecting to ws://127.0.0.1:1/echo"},
		{"not ws", `ws.connect("http://x/", {}, () => {});`, "want a ws:// or wss:// URL"},
		{"bad event", `ws.connect(__ENV.URL + "/echo", (s) => { s.on("opne", () => {}); });`, `unknown socket event "opne"`},
		{"handler throws", `ws.connect(__ENV.URL + "/echo", (s) => { s.on("open", () => { throw new Error("from open"); }); });`, "from open"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "import ws from \"k6/ws\";\nexport const options = { iterations: 1 };\nexport default function () {\n  " + c.body + "\n}\n"
			res, reg := run(t, src, Config{Env: map[string]string{"URL": srv.URL}}, nil)
			ex := exceptions(reg)
			var hit bool
			for _, e := range ex {
				hit = hit || strings.HasPrefix(e, "exception: ") && strings.Contains(e, c.want)
			}
			if res.Exceptions != 1 || !hit {
				t.Fatalf("exceptions %d %q, want one with %q", res.Exceptions, ex, c.want)
			}
		})
	}
}

func TestWebSocketsModule(t *testing.T) {
	srv := wstest.Start()
	t.Cleanup(srv.Close)
	src := `import { WebSocket } from "k6/websockets";
import { check } from "k6";
export const options = { iterations: 3 };
export default function () {
  const got = [];
  let closeCode = 0;
  const sock = new WebSocket(__ENV.URL + "/echo");
  sock.onopen = () => { sock.send("one"); sock.send("two"); };
  sock.addEventListener("message", (e) => {
    got.push(e.data);
    if (got.length === 2) sock.close();
  });
  sock.onclose = (e) => {
    closeCode = e.code;
    check(got, { "both echoes, in order": (g) => g.join(",") === "one,two", "closed normally": () => closeCode === 1000 });
  };
  const bad = new WebSocket("ws://127.0.0.1:1/echo");
  bad.onerror = (e) => { check(e, { "error event for a closed port": (e) => e.error.includes("connecting to") }); };
}`
	res, reg := run(t, src, Config{Env: map[string]string{"URL": srv.URL}}, nil)
	if res.Exceptions != 0 || res.Iterations != 3 {
		t.Fatalf("iterations %d, exceptions %d: %v", res.Iterations, res.Exceptions, exceptions(reg))
	}
	if c := reg.Total(reg.Builtin.Checks); c.Count != 9 || c.Nonzero != 9 {
		t.Errorf("checks %d of %d passed, want 9 of 9 (handlers ran before each iteration ended)", c.Nonzero, c.Count)
	}
	if n := reg.Total(reg.Get("ws_msgs_received")).Sum; n != 6 {
		t.Errorf("ws_msgs_received %v, want 6", n)
	}
}

func TestGRPCReflectAndCutOff(t *testing.T) {
	addr := startGRPC(t)
	t.Run("reflect", func(t *testing.T) {
		src := `import grpc from "k6/net/grpc";
export const options = { iterations: 2 };
const client = new grpc.Client();
export default function () {
  client.connect(__ENV.ADDR, { plaintext: true, reflect: true });
  const r = client.invoke("surge.echo.v1.Echo.Say", { message: "via reflection" });
  client.close();
  if (r.message.message !== "via reflection") throw new Error(JSON.stringify(r));
}`
		res, reg := run(t, src, Config{Env: map[string]string{"ADDR": addr}}, nil)
		if res.Exceptions != 0 || res.Iterations != 2 {
			t.Fatalf("iterations %d, exceptions %d: %v", res.Iterations, res.Exceptions, exceptions(reg))
		}
	})
	t.Run("stream cut off at the end", func(t *testing.T) {
		// A chat nobody ends keeps its iteration open until the
		// scenario's graceful stop; then the stream is cancelled, the
		// iteration counts as interrupted, not as an exception.
		src := `import grpc from "k6/net/grpc";
import { Counter } from "k6/metrics";
const replies = new Counter("replies");
export const options = { scenarios: { s: { executor: "constant-vus", vus: 1, duration: "200ms", gracefulStop: "300ms" } } };
const client = new grpc.Client();
client.load([__ENV.PROTOS], "echo.proto");
export default function () {
  if (__ITER === 0) client.connect(__ENV.ADDR, { plaintext: true });
  const s = new grpc.Stream(client, "surge.echo.v1.Echo/Chat");
  s.on("data", () => replies.add(1));
  s.write({ message: "a" });
}`
		start := time.Now()
		res, reg := run(t, src, Config{Env: map[string]string{"ADDR": addr, "PROTOS": protoDir(t)}}, nil)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("run took %v; the open stream was not cut off at the graceful stop", took)
		}
		if res.Exceptions != 0 || res.Interrupts != 1 {
			t.Errorf("exceptions %d, interrupts %d; want 0 and 1: %v (%+v)", res.Exceptions, res.Interrupts, exceptions(reg), res)
		}
		if n := reg.Total(reg.Get("replies")).Sum; n != 1 {
			t.Errorf("replies %v, want 1 (the data handler ran while the iteration waited)", n)
		}
	})
}

func TestGRPCTLSAndProtoset(t *testing.T) {
	cert, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpctest.Start(grpctest.Options{TLS: credentials.NewServerTLSFromCert(&cert.TLS)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	fd, err := grpctest.Compile()
	if err != nil {
		t.Fatal(err)
	}
	set, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{protodesc.ToFileDescriptorProto(fd)}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "echo.protoset"), set, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), cert.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	src := `import grpc from "k6/net/grpc";
export const options = { iterations: 2 };
const client = new grpc.Client();
const methods = client.loadProtoset("echo.protoset");
const ca = open("ca.pem");
export default function () {
  let refused = "";
  try { client.connect(__ENV.ADDR, { plaintext: true, timeout: "2s" }); } catch (e) { refused = String(e); }
  if (!refused.includes("client.connect")) throw new Error("plaintext to a TLS server: " + refused);
  client.connect(__ENV.ADDR, { tls: { cacerts: [ca] }, timeout: "5s" });
  const r = client.invoke("surge.echo.v1.Echo/Say", { message: "tls" });
  client.close();
  if (r.message.message !== "tls" || methods.length !== 4) throw new Error(JSON.stringify(r) + methods);
}`
	p := filepath.Join(dir, "test.js")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	s, err := Load(context.Background(), p, Config{Registry: reg, Env: map[string]string{"ADDR": srv.Addr}, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	scens, err := s.Scenarios(nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), engine.Options{Registry: reg, Scenarios: scens})
	if err != nil {
		t.Fatal(err)
	}
	if res.Exceptions != 0 || res.Iterations != 2 {
		t.Fatalf("iterations %d, exceptions %d: %v", res.Iterations, res.Exceptions, exceptions(reg))
	}
}
