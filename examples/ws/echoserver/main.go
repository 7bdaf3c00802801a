// Command echoserver serves surge's WebSocket test routes (/echo,
// /broadcast, /close, /drop, /ping) for the examples and the echo
// benchmark in docs/websocket.md.
//
//	go run ./examples/ws/echoserver -addr 127.0.0.1:8090
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
	fmt.Printf("serving ws://%s/echo\n", lis.Addr())
	if err := http.Serve(lis, wstest.Handler()); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}
