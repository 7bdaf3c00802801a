// Command hot spends most of its CPU in main.hot, for the profiler's tests.
package main

import (
	"fmt"
	"os"
	"time"
)

var sink uint64

//go:noinline
func hot(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407 // the hottest line
		x ^= x >> 29
	}
	return x
}

//go:noinline
func cold(n int) uint64 {
	x := uint64(7)
	for i := 0; i < n; i++ {
		x += uint64(i)
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
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sink += hot(2_000_000)
		sink += cold(20_000)
	}
}
