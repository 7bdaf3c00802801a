// Command inline spends its CPU in main.mix, which the compiler inlines
// into main.outer, for the profiler's inlined-frame test.
package main

import (
	"fmt"
	"os"
	"time"
)

var sink uint64

func mix(x uint64) uint64 {
	x = x*6364136223846793005 + 1442695040888963407
	return x ^ x>>29
}

//go:noinline
func outer(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = mix(x) // the call site of the inlined frame
	}
	return x
}

func main() {
	d := 3 * time.Second
	if len(os.Args) > 1 {
		if v, err := time.ParseDuration(os.Args[1]); err == nil {
			d = v
		}
	}
	fmt.Println("ready")
	for end := time.Now().Add(d); time.Now().Before(end); {
		sink += outer(1_000_000)
	}
}
