package cluster

import (
	"syscall"
	"time"
)

// cpuMeter measures the share of one CPU the process used between calls.
type cpuMeter struct {
	last    time.Time
	lastCPU time.Duration
}

func (c *cpuMeter) share() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	defer func() { c.last, c.lastCPU = now, cpu }()
	if c.last.IsZero() {
		return 0
	}
	wall := now.Sub(c.last)
	if wall <= 0 {
		return 0
	}
	return float64(cpu-c.lastCPU) / float64(wall)
}
