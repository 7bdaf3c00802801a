// Command echoserver serves surge's Echo gRPC service (one method of each
// call kind, health and server reflection) for the examples and the
// benchmark against ghz in docs/grpc.md.
//
//	go run ./examples/grpc/echoserver -addr 127.0.0.1:50051
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "listen address")
	flag.Parse()
	srv, err := grpctest.Start(grpctest.Options{Addr: *addr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
	fmt.Println("serving surge.echo.v1.Echo on", srv.Addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
	srv.Stop()
}
