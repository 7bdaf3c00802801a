// Command client shows surge's gRPC layer from Go: one VU's client loads
// echo.proto at run time, connects, makes a unary call and opens a stream
// of each kind, then prints what it got and the metrics it recorded.
//
//	go run ./examples/grpc/echoserver &
//	go run ./examples/grpc/client -addr 127.0.0.1:50051
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu"
	"github.com/surgeload/surge/internal/vu"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address of the Echo server")
	protoDir := flag.String("import-path", "internal/protocol/grpcvu/grpctest", "directory holding echo.proto")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *addr, *protoDir); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, addr, protoDir string) error {
	reg := metrics.NewRegistry()
	st := vu.New(reg, 1, 0, "default", reg.Intern())
	c := grpcvu.New(st)
	methods, err := c.Load([]string{protoDir}, "echo.proto")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "loaded %s\n", strings.Join(methods, " "))
	if err := c.Connect(ctx, addr, grpcvu.ConnectParams{Plaintext: true, Timeout: 5 * time.Second}); err != nil {
		return err
	}
	defer c.Close()

	health, err := c.HealthCheck(ctx, "surge.echo.v1.Echo")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "health:", health)

	resp, err := c.Invoke(ctx, "surge.echo.v1.Echo/Say", []byte(`{"message":"hello"}`), grpcvu.InvokeParams{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Say: %s %s\n", resp.Status, resp.Message)
	resp, err = c.Invoke(ctx, "surge.echo.v1.Echo/Say", []byte(`{"fail_code":7}`), grpcvu.InvokeParams{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Say failing: %s %q\n", resp.Status, resp.Error.Message())

	streams := []struct {
		method string
		writes []string
	}{
		{"surge.echo.v1.Echo/Repeat", []string{`{"message":"r","repeat":2}`}},
		{"surge.echo.v1.Echo/Collect", []string{`{"message":"a"}`, `{"message":"b"}`}},
		{"surge.echo.v1.Echo/Chat", []string{`{"message":"x"}`, `{"message":"y"}`}},
	}
	for _, sc := range streams {
		if err := stream(ctx, w, c, sc.method, sc.writes); err != nil {
			return err
		}
	}
	reg.Tick(time.Now().Add(time.Second))
	for _, name := range []string{"grpc_req_duration", "grpc_streams", "grpc_streams_msgs_sent", "grpc_streams_msgs_received"} {
		a := reg.Total(reg.Get(name))
		n := a.Sum
		if a.Type == metrics.Trend {
			n = float64(a.Count)
		}
		fmt.Fprintf(w, "%s: %v\n", name, n)
	}
	return nil
}

// stream writes the messages, ends the request side and prints the events
// in order. Events come from the stream's goroutine; a channel brings them
// back to this one.
func stream(ctx context.Context, w io.Writer, c *grpcvu.Client, method string, writes []string) error {
	events := make(chan grpcvu.StreamEvent, 16)
	s, err := c.NewStream(ctx, method, grpcvu.InvokeParams{}, func(ev grpcvu.StreamEvent) { events <- ev })
	if err != nil {
		return err
	}
	for _, m := range writes {
		if err := s.Write([]byte(m)); err != nil {
			return err
		}
	}
	if err := s.End(); err != nil {
		return err
	}
	name := method[strings.LastIndexByte(method, '/')+1:]
	for ev := range events {
		switch ev.Kind {
		case grpcvu.EventData:
			fmt.Fprintf(w, "%s data: %s\n", name, ev.Message)
		case grpcvu.EventError:
			fmt.Fprintf(w, "%s error: %s\n", name, ev.Status.Message())
		case grpcvu.EventEnd:
			fmt.Fprintf(w, "%s end: %s\n", name, ev.Status.Code())
			return nil
		}
	}
	return nil
}
