package grpcvu

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"github.com/surgeload/surge/internal/vu"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

const (
	say     = "surge.echo.v1.Echo/Say"
	repeat  = "surge.echo.v1.Echo/Repeat"
	collect = "surge.echo.v1.Echo/Collect"
	chat    = "surge.echo.v1.Echo/Chat"
)

func startServer(t *testing.T, o grpctest.Options) *grpctest.Server {
	t.Helper()
	srv, err := grpctest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func newVU(t *testing.T) (*vu.State, *Client) {
	t.Helper()
	reg := metrics.NewRegistry()
	st := vu.New(reg, 1, 0, "default", reg.Intern(metrics.Tag{Key: "scenario", Value: "default"}))
	c := New(st)
	t.Cleanup(func() { c.Close() })
	return st, c
}

// connected returns a VU's client connected to srv with echo.proto loaded
// from its source file.
func connected(t *testing.T, srv *grpctest.Server) (*vu.State, *Client) {
	t.Helper()
	st, c := newVU(t)
	if _, err := c.Load([]string{"grpctest"}, "echo.proto"); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(context.Background(), srv.Addr, ConnectParams{Plaintext: true, Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return st, c
}

func total(st *vu.State, name string, filter ...metrics.Tag) *metrics.Agg {
	st.Registry.Tick(time.Now().Add(time.Hour))
	return st.Registry.Total(st.Registry.Get(name), filter...)
}

func TestInvokeUnary(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	st, c := connected(t, srv)
	ctx := context.Background()
	resp, err := c.Invoke(ctx, say, []byte(`{"message":"hello"}`), InvokeParams{Metadata: map[string]string{"x-echo": "sent"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != codes.OK || resp.Error != nil {
		t.Fatalf("status %v, error %v", resp.Status, resp.Error)
	}
	var reply struct {
		Message string `json:"message"`
		Index   int    `json:"index"`
	}
	if err := json.Unmarshal(resp.Message, &reply); err != nil || reply.Message != "hello" {
		t.Fatalf("message %s (%v), want hello", resp.Message, err)
	}
	if !strings.Contains(string(resp.Message), `"index":0`) {
		t.Errorf("zero fields are not rendered, as k6 does: %s", resp.Message)
	}
	if got := resp.Headers.Get("content-type"); len(got) != 1 || got[0] != "application/grpc" {
		t.Errorf("headers %v, want content-type application/grpc", resp.Headers)
	}
	if got := resp.Headers.Get("x-echo"); len(got) != 1 || got[0] != "sent" {
		t.Errorf("headers %v: the metadata sent did not come back", resp.Headers)
	}
	if got := resp.Trailers.Get("x-served-by"); len(got) != 1 || got[0] != "grpctest" {
		t.Errorf("trailers %v, want x-served-by", resp.Trailers)
	}

	resp, err = c.Invoke(ctx, say, []byte(`{"message":"x","fail_code":5}`), InvokeParams{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != codes.NotFound || resp.Error.Message() != "failing as asked" || resp.Message != nil {
		t.Fatalf("failing call: status %v, error %v, message %s", resp.Status, resp.Error, resp.Message)
	}

	path := metrics.Tag{Key: "method", Value: "/surge.echo.v1.Echo/Say"}
	if n := total(st, "grpc_req_duration", path, metrics.Tag{Key: "status", Value: "0"}).Count; n != 1 {
		t.Errorf("grpc_req_duration{status:0} count %d, want 1", n)
	}
	if n := total(st, "grpc_req_duration", path, metrics.Tag{Key: "status", Value: "5"}, metrics.Tag{Key: "rpc_type", Value: "unary"}).Count; n != 1 {
		t.Errorf("grpc_req_duration{status:5} count %d, want 1", n)
	}
	if n := st.Registry.Errors.Count("grpc"); n != 1 {
		t.Errorf("errors logged %d, want 1", n)
	}
}

func TestInvokeMeasuresFromDueTime(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	st, c := connected(t, srv)
	st.BeginIteration(time.Now().Add(-200*time.Millisecond), time.Time{})
	if _, err := c.Invoke(context.Background(), say, nil, InvokeParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invoke(context.Background(), say, nil, InvokeParams{}); err != nil {
		t.Fatal(err)
	}
	a := total(st, "grpc_req_duration")
	if a.Count != 2 || a.Max < 200 || a.Min >= 200 {
		t.Errorf("count %d min %.1f max %.1f ms: want the first call to include the 200 ms lag, the second not", a.Count, a.Min, a.Max)
	}
}

func TestReflection(t *testing.T) {
	for _, alpha := range []bool{false, true} {
		srv := startServer(t, grpctest.Options{OnlyV1Alpha: alpha, ReflectToken: "t"})
		_, c := newVU(t)
		err := c.Connect(context.Background(), srv.Addr, ConnectParams{Plaintext: true, Reflect: true, ReflectMetadata: map[string]string{"x-token": "wrong"}})
		if err == nil || !strings.Contains(err.Error(), "server reflection: rpc error: code = Unauthenticated desc = reflection needs x-token") {
			t.Errorf("reflection with the wrong token: %v", err)
		}
		err = c.Connect(context.Background(), srv.Addr, ConnectParams{Plaintext: true, Reflect: true, ReflectMetadata: map[string]string{"x-token": "t"}})
		if err != nil {
			t.Fatalf("v1alpha only %v: %v", alpha, err)
		}
		want := []string{"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/List", "/grpc.health.v1.Health/Watch",
			"/surge.echo.v1.Echo/Chat", "/surge.echo.v1.Echo/Collect", "/surge.echo.v1.Echo/Repeat", "/surge.echo.v1.Echo/Say"}
		if got := c.Schema().Methods(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("v1alpha only %v: methods %v, want %v", alpha, got, want)
		}
		resp, err := c.Invoke(context.Background(), "/surge.echo.v1.Echo/Say", []byte(`{"message":"reflected"}`), InvokeParams{})
		if err != nil || !strings.Contains(string(resp.Message), "reflected") {
			t.Errorf("invoke after reflection: %v %s", err, resp.Message)
		}
	}
}

func TestLoadImportsAndProtoset(t *testing.T) {
	s, err := Load([]string{"testdata/protos"}, "geo.proto")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Methods(); len(got) != 1 || got[0] != "/surge.geo.Geo/Measure" {
		t.Fatalf("methods %v", got)
	}
	m, err := s.Method("surge.geo.Geo.Measure") // the dotted form
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalRequest(m, []byte(`{"points":[{"x":1,"y":2}],"at":"2026-01-02T03:04:05Z"}`))
	if err != nil || len(b) == 0 {
		t.Fatalf("request with an imported type and a well-known type: %v", err)
	}

	// The same schema as a protoset (protoc --include_imports).
	geo, _ := s.files.FindFileByPath("geo.proto")
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		for i := 0; i < f.Imports().Len(); i++ {
			add(f.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(geo)
	raw, _ := proto.Marshal(set)
	path := filepath.Join(t.TempDir(), "geo.protoset")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, c := newVU(t)
	methods, err := c.LoadProtoset(path)
	if err != nil || len(methods) != 1 || methods[0] != "/surge.geo.Geo/Measure" {
		t.Fatalf("protoset: %v %v", methods, err)
	}
}

func TestBadInput(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	_, c := connected(t, srv)
	_, fresh := newVU(t)
	garbage := filepath.Join(t.TempDir(), "garbage.protoset")
	os.WriteFile(garbage, []byte("not a descriptor set"), 0o644)
	ctx := context.Background()
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"proto that does not parse", func() error { _, err := Load([]string{"testdata/protos"}, "broken.proto"); return err }, "broken.proto:7:3: syntax error"},
		{"missing proto", func() error { _, err := Load([]string{"testdata/protos"}, "nope.proto"); return err }, "nope.proto"},
		{"no files", func() error { _, err := Load(nil); return err }, "no proto files given"},
		{"protoset not a set", func() error { _, err := LoadProtoset(garbage); return err }, "not a FileDescriptorSet"},
		{"unknown method", func() error {
			_, err := c.Invoke(ctx, "surge.echo.v1.Echo/Shout", nil, InvokeParams{})
			return err
		}, `method "surge.echo.v1.Echo/Shout" not found (known: /surge.echo.v1.Echo/Chat,`},
		{"unknown field", func() error {
			_, err := c.Invoke(ctx, say, []byte(`{"mesage":"x"}`), InvokeParams{})
			return err
		}, `does not match surge.echo.v1.EchoRequest: (line 1:2): unknown field "mesage"`},
		{"wrong type", func() error {
			_, err := c.Invoke(ctx, say, []byte(`{"repeat":"many"}`), InvokeParams{})
			return err
		}, `invalid value for int32 field repeat: "many"`},
		{"not JSON", func() error {
			_, err := c.Invoke(ctx, say, []byte(`{message:`), InvokeParams{})
			return err
		}, "request for /surge.echo.v1.Echo/Say does not match"},
		{"stream with invoke", func() error {
			_, err := c.Invoke(ctx, chat, nil, InvokeParams{})
			return err
		}, "a bidi_stream method; open a stream instead"},
		{"unary as stream", func() error {
			_, err := c.NewStream(ctx, say, InvokeParams{}, nil)
			return err
		}, "a unary method; use invoke"},
		{"invoke before connect", func() error {
			_, err := fresh.Invoke(ctx, say, nil, InvokeParams{})
			return err
		}, "not connected; call connect first"},
		{"nobody listening", func() error {
			return fresh.Connect(ctx, "127.0.0.1:1", ConnectParams{Plaintext: true, Timeout: 2 * time.Second})
		}, "connecting to 127.0.0.1:1: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// events collects a stream's events.
type events struct {
	mu   sync.Mutex
	list []StreamEvent
}

func (e *events) add(ev StreamEvent) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) kinds() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var k []string
	for _, ev := range e.list {
		k = append(k, ev.Kind.String())
	}
	return strings.Join(k, " ")
}

func TestStreams(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	st, c := connected(t, srv)
	ctx := context.Background()
	tests := []struct {
		method string
		writes []string
		kinds  string
		last   string // in the last data message
	}{
		{repeat, []string{`{"message":"r","repeat":3}`}, "data data data end", `"index":3`},
		{collect, []string{`{"message":"a"}`, `{"message":"b"}`, `{"message":"c"}`}, "data end", `"message":"a,b,c"`},
		{chat, []string{`{"message":"a"}`, `{"message":"b"}`}, "data data end", `"index":2`},
	}
	for _, tc := range tests {
		var ev events
		s, err := c.NewStream(ctx, tc.method, InvokeParams{}, ev.add)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.writes {
			if err := s.Write([]byte(w)); err != nil {
				t.Fatalf("%s: write: %v", tc.method, err)
			}
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
		if st := s.Wait(); st.Code() != codes.OK {
			t.Fatalf("%s: status %v", tc.method, st)
		}
		if got := ev.kinds(); got != tc.kinds {
			t.Errorf("%s: events %q, want %q", tc.method, got, tc.kinds)
		}
		last := ev.list[len(ev.list)-2]
		if !strings.Contains(string(last.Message), tc.last) {
			t.Errorf("%s: last message %s, want %s", tc.method, last.Message, tc.last)
		}
	}
	if n := total(st, "grpc_streams").Sum; n != 3 {
		t.Errorf("grpc_streams %v, want 3", n)
	}
	if n := total(st, "grpc_streams_msgs_sent").Sum; n != 6 {
		t.Errorf("grpc_streams_msgs_sent %v, want 6", n)
	}
	if n := total(st, "grpc_streams_msgs_received").Sum; n != 6 {
		t.Errorf("grpc_streams_msgs_received %v, want 6", n)
	}
	if n := total(st, "grpc_streams_msgs_received", metrics.Tag{Key: "rpc_type", Value: "bidi_stream"}).Sum; n != 2 {
		t.Errorf("grpc_streams_msgs_received{rpc_type:bidi_stream} %v, want 2", n)
	}
}

func TestStreamBadWrites(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	_, c := connected(t, srv)
	s, err := c.NewStream(context.Background(), chat, InvokeParams{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]byte(`{"msg":"x"}`)); err == nil || !strings.Contains(err.Error(), `unknown field "msg"`) {
		t.Errorf("write of a bad message: %v", err)
	}
	s.End()
	if err := s.Write([]byte(`{}`)); err == nil || !strings.Contains(err.Error(), "write after end") {
		t.Errorf("write after end: %v", err)
	}
	s.Wait()
	r, err := c.NewStream(context.Background(), repeat, InvokeParams{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Write([]byte(`{"repeat":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := r.Write([]byte(`{"repeat":1}`)); err == nil || !strings.Contains(err.Error(), "takes one request") {
		t.Errorf("second request to a server stream: %v", err)
	}
	r.Wait()
}

func TestServerGoneMidStream(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	st, c := connected(t, srv)
	first := make(chan struct{})
	var once sync.Once
	var ev events
	s, err := c.NewStream(context.Background(), repeat, InvokeParams{}, func(e StreamEvent) {
		ev.add(e)
		once.Do(func() { close(first) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]byte(`{"message":"m","repeat":1000,"interval_ms":20}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("no message from the stream")
	}
	srv.Stop()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end after the server stopped")
	}
	if got := s.Wait().Code(); got != codes.Unavailable {
		t.Errorf("final status %v, want Unavailable", got)
	}
	if k := ev.kinds(); !strings.HasSuffix(k, "data error end") {
		t.Errorf("events %q, want data… error end", k)
	}
	if n := st.Registry.Errors.Count("grpc"); n != 1 {
		t.Errorf("errors counted %d, want 1", n)
	}
	// The VU goes on: a call is a failed sample, not an error of the script.
	resp, err := c.Invoke(context.Background(), say, nil, InvokeParams{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("invoke after the server left: %v", err)
	}
	if resp.Status != codes.Unavailable {
		t.Errorf("status %v, want Unavailable", resp.Status)
	}
	if n := total(st, "grpc_req_duration", metrics.Tag{Key: "status", Value: "14"}).Count; n != 1 {
		t.Errorf("grpc_req_duration{status:14} %d, want 1", n)
	}
}

func TestTLS(t *testing.T) {
	cert, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, grpctest.Options{TLS: credentials.NewServerTLSFromCert(&cert.TLS)})
	ctx := context.Background()

	_, c := newVU(t)
	err = c.Connect(ctx, srv.Addr, ConnectParams{Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "tls: failed to verify certificate: x509: certificate signed by unknown authority") {
		t.Errorf("untrusted certificate: %v", err)
	}
	err = c.Connect(ctx, srv.Addr, ConnectParams{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: cert.Pool, ServerName: "example.com"}})
	if err == nil || !strings.Contains(err.Error(), "certificate is valid for localhost, not example.com") {
		t.Errorf("wrong server name: %v", err)
	}
	err = c.Connect(ctx, srv.Addr, ConnectParams{Timeout: 5 * time.Second, Plaintext: true})
	if err == nil || !strings.Contains(err.Error(), "a TLS server and a plaintext client") {
		t.Errorf("plaintext to a TLS server: %v", err)
	}
	err = c.Connect(ctx, srv.Addr, ConnectParams{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: cert.Pool}, Reflect: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.HealthCheck(ctx, grpctest.Service); err != nil || got != "SERVING" {
		t.Errorf("health check: %q %v", got, err)
	}
	if _, err := c.HealthCheck(ctx, "no.Such"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("health check of an unknown service: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	server, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	client, err := grpctest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{server.TLS},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: client.Pool})
	srv := startServer(t, grpctest.Options{TLS: creds})
	ctx := context.Background()

	anon, err := TLSFromPEM(nil, nil, server.PEM)
	if err != nil {
		t.Fatal(err)
	}
	_, c := newVU(t)
	if err := c.Connect(ctx, srv.Addr, ConnectParams{TLS: anon, Timeout: 5 * time.Second, Reflect: true}); err == nil {
		t.Error("connected without the client certificate the server requires")
	}
	withCert, err := TLSFromPEM(client.PEM, client.Key, server.PEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx, srv.Addr, ConnectParams{TLS: withCert, Timeout: 5 * time.Second, Reflect: true}); err != nil {
		t.Fatal(err)
	}
	if resp, err := c.Invoke(ctx, say, []byte(`{"message":"m"}`), InvokeParams{}); err != nil || resp.Status != codes.OK {
		t.Errorf("call over mutual TLS: %v %v", resp, err)
	}

	for _, tc := range []struct {
		cert, key, ca []byte
		want          string
	}{
		{client.PEM, nil, nil, "a client certificate needs its key"},
		{client.PEM, server.Key, nil, "tls: client certificate: tls: private key does not match public key"},
		{nil, nil, []byte("junk"), "cacerts[0]: no PEM certificate in it"},
	} {
		var cas [][]byte
		if tc.ca != nil {
			cas = append(cas, tc.ca)
		}
		if _, err := TLSFromPEM(tc.cert, tc.key, cas...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("TLSFromPEM: %v, want %q", err, tc.want)
		}
	}
}

func TestInvokeCutOffIsNotASample(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	st, c := connected(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, err := c.Invoke(ctx, say, nil, InvokeParams{})
	if err != nil || resp.Status != codes.Canceled {
		t.Fatalf("invoke with a cancelled context: %v %v", resp, err)
	}
	if n := total(st, "grpc_req_duration").Count; n != 0 {
		t.Errorf("%d samples of a call cut off by the end of the iteration, want 0", n)
	}
}

func TestInvokeAsync(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	st, c := connected(t, srv)
	type result struct {
		resp *Response
		err  error
	}
	done := make(chan result, 8)
	for i := 0; i < 8; i++ {
		err := c.InvokeAsync(context.Background(), say, []byte(`{"message":"async"}`), InvokeParams{}, func(r *Response, err error) {
			done <- result{r, err}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 8; i++ {
		r := <-done
		if r.err != nil || r.resp.Status != codes.OK || !strings.Contains(string(r.resp.Message), "async") {
			t.Fatalf("async call: %+v %v", r.resp, r.err)
		}
	}
	if n := total(st, "grpc_req_duration").Count; n != 8 {
		t.Errorf("%d samples, want 8", n)
	}
	err := c.InvokeAsync(context.Background(), "nope.Svc/M", nil, InvokeParams{}, func(*Response, error) { t.Error("called back for a script mistake") })
	if err == nil || !strings.Contains(err.Error(), `asyncInvoke: method "nope.Svc/M" not found`) {
		t.Errorf("unknown method: %v", err)
	}
}
