package profile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// MemPoint is one reading of a process tree's memory, in bytes, from
// /proc/PID/smaps_rollup summed over the process and its descendants.
type MemPoint struct {
	At        time.Duration // since the first reading
	Processes int
	RSS       int64
	PSS       int64
	PSSAnon   int64
	Swap      int64
}

// ReadMem reads the memory of pid (and its descendants when children).
func ReadMem(pid int, children bool) (MemPoint, error) {
	pids := []int{pid}
	if children {
		pids = descendants(pid)
	}
	var mp MemPoint
	for i, p := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			if i == 0 {
				return mp, fmt.Errorf("reading memory of pid %d: %w", pid, err)
			}
			continue // a child that just exited
		}
		r := parseRollup(b)
		mp.Processes++
		mp.RSS += r["Rss"]
		mp.PSS += r["Pss"]
		mp.PSSAnon += r["Pss_Anon"]
		mp.Swap += r["Swap"]
	}
	return mp, nil
}

// parseRollup parses "Rss:   1234 kB" lines into bytes by field name.
func parseRollup(b []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			out[name] = v * 1024
		}
	}
	return out
}

// MemTimeline reads memory every interval for d (or until ctx ends or the
// process exits), handing each point to fn as it is taken.
func MemTimeline(ctx context.Context, pid int, children bool, interval, d time.Duration, fn func(MemPoint) error) error {
	start := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; ; n++ {
		mp, err := ReadMem(pid, children)
		if err != nil {
			if n > 0 {
				return nil // exited: the timeline so far stands
			}
			return err
		}
		mp.At = time.Since(start).Round(time.Millisecond)
		if err := fn(mp); err != nil {
			return err
		}
		if time.Since(start)+interval > d {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// WriteMemHeader and WriteMemPoint print the timeline as a table.
func WriteMemHeader(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%9s %5s %10s %10s %10s %10s\n", "time", "procs", "rss", "pss", "pss_anon", "swap")
	return err
}

// WriteMemPoint prints one row of the memory timeline.
func WriteMemPoint(w io.Writer, mp MemPoint) error {
	_, err := fmt.Fprintf(w, "%8.1fs %5d %10s %10s %10s %10s\n", mp.At.Seconds(), mp.Processes,
		bytesHuman(mp.RSS), bytesHuman(mp.PSS), bytesHuman(mp.PSSAnon), bytesHuman(mp.Swap))
	return err
}

func bytesHuman(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
