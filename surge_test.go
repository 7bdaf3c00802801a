package surge_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge"
)

func TestUserMixWeightsAndOnStart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("[1]")) }))
	defer srv.Close()
	var list, create, starts atomic.Int64
	var mu sync.Mutex
	startedBy := map[int]int{}
	test := surge.Test{
		Output: io.Discard,
		Scenarios: []surge.Scenario{{
			Executor: surge.SharedIterations{VUs: 8, Iterations: 4400},
			Users: []surge.User{{
				Host: srv.URL,
				OnStart: func(v *surge.VU) error {
					starts.Add(1)
					mu.Lock()
					startedBy[v.ID()]++
					mu.Unlock()
					return nil
				},
				Tasks: []surge.Task{
					{Name: "list_items", Weight: 10, Tags: []string{"read"}, Fn: func(v *surge.VU) error { list.Add(1); v.Get("/api/items"); return nil }},
					{Name: "create_item", Weight: 1, Tags: []string{"write"}, Fn: func(v *surge.VU) error { create.Add(1); return nil }},
				},
			}},
		}},
	}
	res, err := surge.Run(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations() != 4400 {
		t.Fatalf("iterations %d", res.Iterations())
	}
	ratio := float64(list.Load()) / float64(create.Load())
	if ratio < 9.5 || ratio > 10.5 {
		t.Errorf("list/create = %d/%d = %.2f, want 10 ±5%%", list.Load(), create.Load(), ratio)
	}
	if starts.Load() != 8 {
		t.Errorf("on_start ran %d times for 8 users", starts.Load())
	}
	for id, n := range startedBy {
		if n != 1 {
			t.Errorf("user %d started %d times", id, n)
		}
	}
	if got := res.Metric("http_reqs")["count"]; got != float64(list.Load()) {
		t.Errorf("http_reqs %v, list tasks %d", got, list.Load())
	}
}

func TestTagSelection(t *testing.T) {
	var read, write atomic.Int64
	test := surge.Test{
		Output:      io.Discard,
		IncludeTags: []string{"read"},
		Scenarios: []surge.Scenario{{
			Executor: surge.SharedIterations{VUs: 2, Iterations: 200},
			Users: []surge.User{{Tasks: []surge.Task{
				{Weight: 1, Tags: []string{"read"}, Fn: func(*surge.VU) error { read.Add(1); return nil }},
				{Weight: 5, Tags: []string{"write"}, Fn: func(*surge.VU) error { write.Add(1); return nil }},
			}}},
		}},
	}
	if _, err := surge.Run(context.Background(), test); err != nil {
		t.Fatal(err)
	}
	if read.Load() != 200 || write.Load() != 0 {
		t.Errorf("read %d write %d, want 200 and 0", read.Load(), write.Load())
	}
}

func TestFixedCountAndWeights(t *testing.T) {
	var mu sync.Mutex
	kinds := map[string]int{}
	user := func(name string, weight, fixed int) surge.User {
		return surge.User{Name: name, Weight: weight, FixedCount: fixed,
			OnStart: func(*surge.VU) error { mu.Lock(); kinds[name]++; mu.Unlock(); return nil },
			Tasks:   []surge.Task{{Fn: func(*surge.VU) error { return nil }}}}
	}
	test := surge.Test{Output: io.Discard, Scenarios: []surge.Scenario{{
		Executor: surge.PerVUIterations{VUs: 14, Iterations: 1},
		Users:    []surge.User{user("admin", 0, 2), user("reader", 3, 0), user("writer", 1, 0)},
	}}}
	if _, err := surge.Run(context.Background(), test); err != nil {
		t.Fatal(err)
	}
	if kinds["admin"] != 2 || kinds["reader"] != 9 || kinds["writer"] != 3 {
		t.Errorf("kinds %v, want admin 2, reader 9, writer 3", kinds)
	}
}

func TestInvalidTests(t *testing.T) {
	tests := []struct {
		name string
		test surge.Test
		want string
	}{
		{"no scenarios", surge.Test{}, "no scenarios"},
		{"no executor", surge.Test{Scenarios: []surge.Scenario{{Exec: func(*surge.VU) error { return nil }}}}, "has no executor"},
		{"both exec and users", surge.Test{Scenarios: []surge.Scenario{{Executor: surge.ConstantVUs{VUs: 1, Duration: time.Second}}}}, "needs either Exec or Users"},
		{"bad threshold", surge.Test{Thresholds: map[string][]string{"http_req_duration": {"p95<1"}}, Scenarios: []surge.Scenario{{Executor: surge.ConstantVUs{VUs: 1, Duration: time.Second}, Exec: func(*surge.VU) error { return nil }}}}, `unknown aggregation "p95"`},
		{"bad executor", surge.Test{Scenarios: []surge.Scenario{{Executor: surge.ConstantVUs{VUs: 0, Duration: time.Second}, Exec: func(*surge.VU) error { return nil }}}}, "vus must be at least 1"},
	}
	for _, tc := range tests {
		tc.test.Output = io.Discard
		_, err := surge.Run(context.Background(), tc.test)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCustomMetricsAndThresholds(t *testing.T) {
	hits := surge.NewCounter("hits")
	size := surge.NewTrend("payload_size", false)
	test := surge.Test{
		Output:     io.Discard,
		Thresholds: map[string][]string{"hits": {"count==50"}, "payload_size": {"max<=49", "avg<20"}},
		Scenarios: []surge.Scenario{{Executor: surge.SharedIterations{VUs: 1, Iterations: 50}, Exec: func(v *surge.VU) error {
			v.Add(hits, 1)
			v.Add(size, float64(v.Iteration()))
			return nil
		}}},
	}
	res, err := surge.Run(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed() {
		t.Error("avg of 0..49 is 24.5, so 'avg<20' must fail")
	}
	if m := res.Metric("payload_size"); m["max"] != 49 || m["avg"] != 24.5 {
		t.Errorf("payload_size %v", m)
	}
}

// BenchmarkSleepingVUs measures the memory of many VUs that each sleep: the
// issue's "100,000 sleeping VUs within 2 GB". Run with
// go test -run '^$' -bench SleepingVUs -benchtime 1x .
func BenchmarkSleepingVUs(b *testing.B) {
	const n = 100_000
	for i := 0; i < b.N; i++ {
		var peak uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(200 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.Sys)
				}
			}
		}()
		start := time.Now()
		res, err := surge.Run(context.Background(), surge.Test{Output: io.Discard, Scenarios: []surge.Scenario{{
			Executor: surge.ConstantVUs{VUs: n, Duration: 3 * time.Second},
			Exec:     func(v *surge.VU) error { return v.Sleep(time.Second) },
		}}})
		close(done)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		b.ReportMetric(float64(res.Iterations()), "iterations")
		b.ReportMetric(time.Since(start).Seconds(), "wall-s")
	}
}

func TestMeasure(t *testing.T) {
	calls := 0
	res := surge.Measure(func() { calls++; time.Sleep(time.Millisecond) }, surge.MeasureOptions{Warmup: 5, N: 20})
	if calls != 25 || len(res.Samples) != 20 {
		t.Fatalf("calls %d samples %d, want 25 and 20", calls, len(res.Samples))
	}
	if res.Min < time.Millisecond || res.Percentile(50) < time.Millisecond || res.Max < res.Percentile(99) {
		t.Errorf("implausible latencies: min %v p50 %v p99 %v max %v", res.Min, res.Percentile(50), res.Percentile(99), res.Max)
	}
}
