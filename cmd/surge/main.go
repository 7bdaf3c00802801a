// Command surge is one binary for load testing and performance profiling:
// load tests from flags or scripts, profiles of running processes, PostgreSQL
// plan analysis and benchmarks with statistics.
//
// main only wires signals and exit codes; every command is a
// func(ctx, stdout, stderr, args) error registered in its own file, so the
// whole CLI runs in-process in tests.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nstopping gracefully (writing summary); press Ctrl-C again to stop at once")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "stopped at once")
		os.Exit(ExitInterrupted)
	}()
	if path := os.Getenv("SURGE_CPUPROFILE"); path != "" { // for surge's own developers
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	code := Main(ctx, os.Stdout, os.Stderr, os.Args[1:])
	pprof.StopCPUProfile()
	cancel()
	os.Exit(code)
}
