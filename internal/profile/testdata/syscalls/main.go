// Command syscalls spends its CPU in the kernel, reading /dev/zero, for
// the profiler's kernel-stack test.
package main

import (
	"fmt"
	"os"
	"time"
)

//go:noinline
func readZero(f *os.File, buf []byte) {
	if _, err := f.Read(buf); err != nil {
		panic(err)
	}
}

func main() {
	d := 3 * time.Second
	if len(os.Args) > 1 {
		if v, err := time.ParseDuration(os.Args[1]); err == nil {
			d = v
		}
	}
	f, err := os.Open("/dev/zero")
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 1<<20)
	fmt.Println("ready")
	for end := time.Now().Add(d); time.Now().Before(end); {
		readZero(f, buf)
	}
}
