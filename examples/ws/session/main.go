// Command session shows surge's WebSocket layer from Go, in the shape of
// a k6/ws script: connect, register handlers, send on open, tick with
// setInterval, ping, close after three echoes; then the metrics.
//
//	go run ./examples/ws/echoserver &
//	go run ./examples/ws/session -url ws://127.0.0.1:8090/echo
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/wsvu"
	"github.com/surgeload/surge/internal/vu"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8090/echo", "echo endpoint")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *url); err != nil {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, url string) error {
	reg := metrics.NewRegistry()
	st := vu.New(reg, 1, 0, "default", reg.Intern())
	pongs := 0
	resp, err := wsvu.Connect(ctx, st, url, wsvu.Params{Subprotocols: []string{"chat"}}, func(s *wsvu.Socket) {
		ticks, echoes := 0, 0
		s.On(wsvu.Open, func(wsvu.Event) {
			fmt.Fprintln(w, "open")
			s.Ping()
			s.SetInterval(func() {
				if ticks < 3 {
					ticks++
					s.Send(fmt.Sprintf("tick %d", ticks))
				}
			}, 10*time.Millisecond)
		})
		s.On(wsvu.Message, func(ev wsvu.Event) {
			fmt.Fprintf(w, "message: %s\n", ev.Data)
			if echoes++; echoes == 3 {
				s.Close(0)
			}
		})
		s.On(wsvu.Pong, func(wsvu.Event) { pongs++ })
		s.On(wsvu.Close, func(ev wsvu.Event) { fmt.Fprintf(w, "close: %d\n", ev.Code) })
		s.On(wsvu.Error, func(ev wsvu.Event) { fmt.Fprintf(w, "error: %v\n", ev.Err) })
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "status %d, subprotocol %s, pongs %d\n", resp.Status, resp.Subprotocol, pongs)
	reg.Tick(time.Now().Add(time.Second))
	for _, name := range []string{"ws_sessions", "ws_msgs_sent", "ws_msgs_received", "ws_ping", "ws_connecting", "ws_session_duration"} {
		a := reg.Total(reg.Get(name))
		if a.Type == metrics.Trend {
			fmt.Fprintf(w, "%s: %d samples\n", name, a.Count)
		} else {
			fmt.Fprintf(w, "%s: %v\n", name, a.Sum)
		}
	}
	return nil
}
