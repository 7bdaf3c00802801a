package profile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkProfilerOverhead measures what sampling costs a CPU-bound Go
// HTTP server. The server runs pinned to one CPU with GOMAXPROCS=1, eight
// keep-alive clients keep it saturated, and rounds alternate profiler off,
// 99 Hz and 999 Hz so that drift in machine load hits all three alike.
// Two figures per rate: requests/s, and the server's CPU time per request
// (from /proc/PID/task/*/schedstat), which is what a saturated server's
// throughput loss is made of and which other load on the machine disturbs
// far less than requests/s. The overhead-% metrics compare CPU per request
// with the profiler off (medians over rounds; overhead-best-% compares the
// best round of each mode, which interference disturbs least).
//
//	go test -run '^$' -bench ProfilerOverhead -benchtime 8x ./internal/profile
//
// b.N is the number of rounds; each round runs 1.5 s per rate.
func BenchmarkProfilerOverhead(b *testing.B) {
	bin := buildGo(b, "cpuserver")
	addr, pid := startServer(b, bin)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	load(client, addr, 500*time.Millisecond) // warm up
	rates := []int{0, 99, 999}
	rps := make([][]float64, len(rates))
	cpu := make([][]float64, len(rates))
	for i := 0; i < b.N; i++ {
		for k, rate := range rates {
			var ss *Session
			if rate > 0 {
				var err error
				if ss, err = Start(context.Background(), Target{PID: pid}, Options{Rate: rate}); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := taskCPU(pid)
			r, n := load(client, addr, 1500*time.Millisecond)
			used := taskCPU(pid) - cpu0
			if ss != nil {
				if _, err := ss.Stop(); err != nil {
					b.Fatal(err)
				}
			}
			rps[k] = append(rps[k], r)
			cpu[k] = append(cpu[k], float64(used.Microseconds())/float64(n))
		}
	}
	for k, rate := range rates {
		name := "off"
		if rate > 0 {
			name = strconv.Itoa(rate) + "Hz"
		}
		b.ReportMetric(median(rps[k]), "req/s-"+name)
		b.ReportMetric(median(cpu[k]), "cpu-us/req-"+name)
		if rate > 0 {
			b.ReportMetric(100*(median(cpu[k])/median(cpu[0])-1), "overhead-%-"+name)
			// Interference from other work only adds CPU per request, so
			// the best round of each mode is the cleanest comparison.
			b.ReportMetric(100*(minimum(cpu[k])/minimum(cpu[0])-1), "overhead-best-%-"+name)
		}
	}
}

// taskCPU sums the on-CPU time of every thread of pid.
func taskCPU(pid int) time.Duration {
	var total time.Duration
	for _, tid := range tasks(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

func minimum(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// load runs eight clients against addr for d and returns requests/s and
// the number of requests.
func load(c *http.Client, addr string, d time.Duration) (float64, int64) {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				resp, err := c.Get("http://" + addr + "/x")
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds(), n.Load()
}

func startServer(b *testing.B, bin string) (string, int) {
	cmd := exec.Command(bin)
	cmd.Env = append(cmd.Environ(), "GOMAXPROCS=1")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
	addr, _ := r.ReadString('\n')
	if ready, _ := r.ReadString('\n'); strings.TrimSpace(ready) != "ready" {
		b.Fatal("cpuserver did not start")
	}
	// Pin every thread of the server to the last CPU, away from the load.
	var set unix.CPUSet
	set.Set(cpuCount() - 1)
	for _, tid := range tasks(cmd.Process.Pid) {
		unix.SchedSetaffinity(tid, &set)
	}
	return strings.TrimSpace(addr), cmd.Process.Pid
}

func cpuCount() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() == 0 {
		return 1
	}
	return set.Count()
}
