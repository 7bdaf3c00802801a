package bench

import (
	"os"
	"syscall"
	"time"
)

// usage returns the child's user and system CPU time and its peak resident
// set size in bytes, from the rusage that wait4 returned.
func usage(ps *os.ProcessState) (user, sys time.Duration, maxRSS int64) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return ps.UserTime(), ps.SystemTime(), 0
	}
	return ps.UserTime(), ps.SystemTime(), ru.Maxrss * 1024 // Linux reports KiB
}

// selfPeakRSS is this process's own peak resident set size in bytes.
func selfPeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
