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
