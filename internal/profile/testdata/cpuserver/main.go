// Command cpuserver is a CPU-bound HTTP server for the profiler's overhead
// benchmark: each request costs a fixed amount of hashing.
package main

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
)

func work(w http.ResponseWriter, r *http.Request) {
	sum := sha256.Sum256([]byte(r.URL.Path))
	for i := 0; i < 2000; i++ { // about 0.5 ms of CPU
		sum = sha256.Sum256(sum[:])
	}
	fmt.Fprintf(w, "%x\n", sum[:4])
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().String())
	fmt.Println("ready")
	http.Serve(l, http.HandlerFunc(work))
}
