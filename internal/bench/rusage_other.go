//go:build !linux

package bench

import (
	"os"
	"time"
)

// usage returns the child's CPU times; peak memory is only read on Linux.
func usage(ps *os.ProcessState) (user, sys time.Duration, maxRSS int64) {
	return ps.UserTime(), ps.SystemTime(), 0
}

// selfPeakRSS is only known on Linux.
func selfPeakRSS() int64 { return 0 }
