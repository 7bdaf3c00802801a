package grpcvu

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"github.com/surgeload/surge/internal/vu"
)

func TestFixedVU(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	conn, err := Dial(context.Background(), srv.Addr, ConnectParams{Plaintext: true, Reflect: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reg := metrics.NewRegistry()
	tags := reg.Intern()
	ok, err := NewFixedVU(vu.New(reg, 1, 0, "default", tags), conn, conn.Schema, say, []byte(`{"message":"hi"}`), InvokeParams{Metadata: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	failing, err := NewFixedVU(vu.New(reg, 2, 1, "default", tags), conn, conn.Schema, say, []byte(`{"fail_code":3}`), InvokeParams{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		ok.RunIteration(context.Background())
		if i < 10 {
			failing.RunIteration(context.Background())
		}
	}
	reg.Tick(time.Now().Add(time.Hour))
	m := reg.Get("grpc_req_duration")
	if n := reg.Total(m, metrics.Tag{Key: "status", Value: "0"}).Count; n != 50 {
		t.Errorf("status 0 calls %d, want 50", n)
	}
	if n := reg.Total(m, metrics.Tag{Key: "status", Value: "3"}).Count; n != 10 {
		t.Errorf("status 3 calls %d, want 10", n)
	}
	if e, _ := reg.Errors.Entries(); len(e) != 1 || e[0].Count != 10 || e[0].Message != "InvalidArgument: failing as asked" {
		t.Errorf("error log %+v", e)
	}

	for _, tc := range []struct{ method, req, want string }{
		{chat, `{}`, "quick mode calls unary methods"},
		{"nope.Svc/M", `{}`, `method "nope.Svc/M" not found`},
		{say, `{"message":1}`, "invalid value for string field message: 1"},
	} {
		_, err := NewFixedVU(vu.New(reg, 3, 2, "default", tags), conn, conn.Schema, tc.method, []byte(tc.req), InvokeParams{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.method, tc.req, err, tc.want)
		}
	}
}

func TestQuickStreams(t *testing.T) {
	srv := startServer(t, grpctest.Options{})
	conn, err := Dial(context.Background(), srv.Addr, ConnectParams{Plaintext: true, Reflect: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tests := []struct {
		method, req    string
		sent, received float64
	}{
		{repeat, `{"message":"r","repeat":4}`, 1, 4},
		{collect, `[{"message":"a"},{"message":"b"},{"message":"c"}]`, 3, 1},
		{chat, `[{"message":"a"},{"message":"b"}]`, 2, 2},
		{chat, `{"message":"one"}`, 1, 1},
	}
	for _, tc := range tests {
		reg := metrics.NewRegistry()
		v, err := NewQuickVU(vu.New(reg, 1, 0, "default", reg.Intern()), conn, conn.Schema, tc.method, []byte(tc.req), InvokeParams{})
		if err != nil {
			t.Fatalf("%s: %v", tc.method, err)
		}
		for i := 0; i < 5; i++ {
			v.RunIteration(context.Background())
		}
		reg.Tick(time.Now().Add(time.Hour))
		got := func(name string) float64 { return reg.Total(reg.Get(name)).Sum }
		if got("grpc_streams") != 5 || got("grpc_streams_msgs_sent") != 5*tc.sent || got("grpc_streams_msgs_received") != 5*tc.received {
			t.Errorf("%s %s: streams %v, sent %v, received %v; want 5, %v, %v", tc.method, tc.req,
				got("grpc_streams"), got("grpc_streams_msgs_sent"), got("grpc_streams_msgs_received"), 5*tc.sent, 5*tc.received)
		}
		if n := reg.Errors.Count("grpc"); n != 0 {
			t.Errorf("%s: %d errors", tc.method, n)
		}
	}
	reg := metrics.NewRegistry()
	for _, tc := range []struct{ method, req, want string }{
		{collect, `[{"message":"a"},{"mesage":"b"}]`, `message 1: request for /surge.echo.v1.Echo/Collect does not match surge.echo.v1.EchoRequest: (line 1:2): unknown field "mesage"`},
		{collect, `[{"message":"a"},`, "the messages are not a JSON array"},
		{"surge.echo.v1.Echo/Nope", `{}`, `invoke: method "surge.echo.v1.Echo/Nope" not found`},
	} {
		_, err := NewQuickVU(vu.New(reg, 1, 0, "default", reg.Intern()), conn, conn.Schema, tc.method, []byte(tc.req), InvokeParams{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.method, tc.req, err, tc.want)
		}
	}
}
