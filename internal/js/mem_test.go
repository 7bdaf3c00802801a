package js

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

// TestVUMemory reports the init time and heap of many VUs (SURGE_VU_MEM=N).
func TestVUMemory(t *testing.T) {
	if os.Getenv("SURGE_VU_MEM") == "" {
		t.Skip("set SURGE_VU_MEM=1 to measure")
	}
	src := `import http from "k6/http";
import { sleep } from "k6";
export default function () { http.get("http://127.0.0.1:8001/"); sleep(1); }`
	reg := metrics.NewRegistry()
	s, err := load(t, "b.js", src, Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	const n = 2000
	vus := make([]any, n)
	start := time.Now()
	f := s.NewVUFunc("", nil, true)
	for i := range n {
		v, err := f(vu.New(reg, i+1, i, "default", reg.Intern()))
		if err != nil {
			t.Fatal(err)
		}
		vus[i] = v
	}
	el := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	t.Logf("%d VUs: init %v (%v each), heap %.1f MB (%.1f KB each)", n, el, el/n,
		float64(m1.HeapAlloc-m0.HeapAlloc)/1e6, float64(m1.HeapAlloc-m0.HeapAlloc)/1e3/n)
	if p := os.Getenv("SURGE_VU_MEMPROF"); p != "" {
		f, _ := os.Create(p)
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	runtime.KeepAlive(vus)
}

// TestVUMemoryRun profiles a 2,000-VU run against SURGE_VU_RUN (a URL).
func TestVUMemoryRun(t *testing.T) {
	url := os.Getenv("SURGE_VU_RUN")
	if url == "" {
		t.Skip("set SURGE_VU_RUN=URL to measure")
	}
	src := `import http from "k6/http";
import { sleep } from "k6";
export default function () { http.get(__ENV.SURGE_VU_RUN); sleep(1); }`
	reg := metrics.NewRegistry()
	s, err := load(t, "b.js", src, Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	scens, _ := s.Scenarios(engine.ConstantVUs{VUs: 2000, Duration: 3 * time.Second}, time.Second)
	go func() {
		time.Sleep(2500 * time.Millisecond)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("heap in use %.1f MB, idle %.1f MB (released %.1f), stacks %.1f MB, sys %.1f MB, goroutines %d",
			float64(ms.HeapInuse)/1e6, float64(ms.HeapIdle)/1e6, float64(ms.HeapReleased)/1e6,
			float64(ms.StackInuse)/1e6, float64(ms.Sys)/1e6, runtime.NumGoroutine())
		runtime.GC()
		if p := os.Getenv("SURGE_VU_MEMPROF"); p != "" {
			f, _ := os.Create(p)
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}()
	if _, err := engine.Run(context.Background(), engine.Options{Registry: reg, Scenarios: scens}); err != nil {
		t.Fatal(err)
	}
}

// TestCPURun runs 50 VUs of http.get + check against SURGE_CPU_RUN for 3 s
// (profile with -cpuprofile).
func TestCPURun(t *testing.T) {
	url := os.Getenv("SURGE_CPU_RUN")
	if url == "" {
		t.Skip("set SURGE_CPU_RUN=URL to measure")
	}
	src := `import http from "k6/http";
import { check } from "k6";
export default function () {
  const res = http.get(__ENV.SURGE_CPU_RUN);
  check(res, { "status is 200": (r) => r.status === 200 });
}`
	reg := metrics.NewRegistry()
	s, err := load(t, "b.js", src, Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	scens, _ := s.Scenarios(engine.ConstantVUs{VUs: 50, Duration: 3 * time.Second}, time.Second)
	res, err := engine.Run(context.Background(), engine.Options{Registry: reg, Scenarios: scens})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d iterations, %.0f/s", res.Iterations, float64(res.Iterations)/3)
}
