package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// workerRegistries records n·perWorker samples, dealt round-robin to n
// registries (the workers), and all of them to one more (the union).
func workerRegistries(n, perWorker int, seed uint64) ([]*metrics.Registry, *metrics.Registry) {
	rng := rand.New(rand.NewPCG(seed, 1))
	union := metrics.NewRegistry()
	regs := make([]*metrics.Registry, n)
	for i := range regs {
		regs[i] = metrics.NewRegistry()
		regs[i].EnableDeltas()
	}
	for k := 0; k < n*perWorker; k++ {
		v := rng.ExpFloat64() * 40 // a long-tailed latency in ms
		tags := []metrics.Tag{{Key: "name", Value: fmt.Sprint("r", k%3)}}
		for _, reg := range []*metrics.Registry{regs[k%n], union} {
			sh := reg.Shard(k)
			sh.Add(reg.Builtin.HTTPReqDuration, reg.Intern(tags...), v)
			sh.Add(reg.Builtin.HTTPReqs, reg.Intern(tags...), 1)
			sh.Add(reg.Builtin.HTTPReqFailed, reg.Intern(tags...), float64(k%7/6))
		}
	}
	return regs, union
}

func TestMergerIsExact(t *testing.T) {
	regs, union := workerRegistries(3, 5000, 42)
	now := time.Now()
	master := metrics.NewRegistry()
	mg := NewMerger()
	var sent []metrics.Delta
	for _, reg := range regs {
		reg.Tick(now)
		ds := reg.TakeDeltas()
		sent = append(sent, ds...)
		if err := mg.Add(EncodeDeltas(ds), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := mg.Flush(master); err != nil {
		t.Fatal(err)
	}
	master.Tick(now)
	union.Tick(now)
	// the same deltas merged one by one, as the registry documents
	direct := metrics.NewRegistry()
	for _, d := range sent {
		if err := direct.MergeDelta(d); err != nil {
			t.Fatal(err)
		}
	}
	direct.Tick(now)
	for _, name := range []string{"http_req_duration", "http_reqs", "http_req_failed"} {
		want := union.Total(union.Get(name))
		for label, reg := range map[string]*metrics.Registry{"merger": master, "MergeDelta": direct} {
			got := reg.Total(reg.Get(name))
			if got.Count != want.Count || got.Sum != want.Sum && name != "http_req_duration" || got.Nonzero != want.Nonzero || got.Min != want.Min || got.Max != want.Max {
				t.Errorf("%s %s: count %d sum %v nonzero %d min %v max %v; want %d %v %d %v %v", label, name, got.Count, got.Sum, got.Nonzero, got.Min, got.Max, want.Count, want.Sum, want.Nonzero, want.Min, want.Max)
			}
			for _, p := range []float64{50, 90, 95, 99, 99.9} {
				if g, w := got.Percentile(p), want.Percentile(p); g != w {
					t.Errorf("%s %s p(%v) = %v, want %v (the union's)", label, name, p, g, w)
				}
			}
		}
	}
}

func TestDeltaEncodingRoundTrip(t *testing.T) {
	regs, _ := workerRegistries(1, 300, 7)
	regs[0].Tick(time.Now())
	ds := regs[0].TakeDeltas()
	b := EncodeDeltas(ds)
	back, err := DecodeDeltas(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(ds) {
		t.Fatalf("%d deltas back, want %d", len(back), len(ds))
	}
	for i := range ds {
		a, z := ds[i], back[i]
		if a.Metric != z.Metric || a.Count != z.Count || a.Sum != z.Sum || a.Min != z.Min || a.Max != z.Max || len(a.Tags) != len(z.Tags) || (a.Hist == nil) != (z.Hist == nil) {
			t.Fatalf("delta %d: %+v came back as %+v", i, a, z)
		}
		if a.Hist != nil {
			for j := range a.Hist.Counts {
				if a.Hist.Counts[j] != z.Hist.Counts[j] {
					t.Fatalf("delta %d: bucket %d: %d came back as %d", i, j, a.Hist.Counts[j], z.Hist.Counts[j])
				}
			}
		}
	}
	if len(b) > 4000 {
		t.Errorf("a second of 3 series with 300 samples encodes to %d bytes; the sparse form should be small", len(b))
	}
	for _, cut := range []int{1, len(b) / 2, len(b) - 1} {
		if _, err := DecodeDeltas(b[:cut]); err == nil {
			t.Errorf("a delta cut at %d of %d bytes decoded without error", cut, len(b))
		}
	}
}

// BenchmarkMasterMerge100Workers is the master's work for one second of a
// run with 100 workers: decode each worker's report and merge everything
// into the registry, then tick it. ns/op is the merge cost per second.
func BenchmarkMasterMerge100Workers(b *testing.B) {
	const workers = 100
	regs, _ := workerRegistries(workers, 200, 3)
	now := time.Now()
	reports := make([][]byte, workers)
	bytes := 0
	for i, reg := range regs {
		reg.Tick(now)
		reports[i] = EncodeDeltas(reg.TakeDeltas())
		bytes += len(reports[i])
	}
	master := metrics.NewRegistry()
	mg := NewMerger()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range reports {
			if err := mg.Add(r, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := mg.Flush(master); err != nil {
			b.Fatal(err)
		}
		master.Tick(now.Add(time.Duration(i) * time.Second))
	}
	b.ReportMetric(float64(bytes)/workers, "report-bytes/worker")
}

// secondOfLoad returns what one worker reports for one second of an HTTP
// test: reqs requests over names request names, each recording the eight
// trends, counters and rates of a real request.
func secondOfLoad(reqs, names int, seed uint64) []metrics.Delta {
	reg := metrics.NewRegistry()
	reg.EnableDeltas()
	b := reg.Builtin
	rng := rand.New(rand.NewPCG(seed, 2))
	trends := []*metrics.Metric{b.HTTPReqDuration, b.HTTPReqBlocked, b.HTTPReqConnecting, b.HTTPReqTLS, b.HTTPReqSending, b.HTTPReqWaiting, b.HTTPReqRecv, b.IterationDuration}
	for k := range reqs {
		tags := reg.Intern(metrics.Tag{Key: "name", Value: fmt.Sprint("/api/", k%names)}, metrics.Tag{Key: "method", Value: "GET"}, metrics.Tag{Key: "status", Value: "200"})
		sh := reg.Shard(k)
		for _, m := range trends {
			sh.Add(m, tags, rng.ExpFloat64()*20)
		}
		sh.Add(b.HTTPReqs, tags, 1)
		sh.Add(b.HTTPReqFailed, tags, 0)
		sh.Add(b.DataSent, tags, 120)
		sh.Add(b.DataReceived, tags, 900)
		sh.Add(b.Iterations, tags, 1)
	}
	reg.Tick(time.Now())
	return reg.TakeDeltas()
}

// BenchmarkMasterSecond100Workers is the master's work for one second of a
// run with 100 workers each doing 1,000 requests/s over 5 request names
// (65 series per worker, 40 of them histograms): decode every report, sum
// per series, merge into the registry, tick. ns/op is the merge cost per
// second of the run. The "separately" variant merges each worker's deltas
// with MergeDelta one by one, for comparison.
func BenchmarkMasterSecond100Workers(b *testing.B) {
	const workers = 100
	reports := make([][]byte, workers)
	var raw [][]metrics.Delta
	size := 0
	for i := range reports {
		ds := secondOfLoad(1000, 5, uint64(i))
		raw = append(raw, ds)
		reports[i] = EncodeDeltas(ds)
		size += len(reports[i])
	}
	b.Run("summed", func(b *testing.B) {
		master := metrics.NewRegistry()
		mg := NewMerger()
		now := time.Now()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, r := range reports {
				if err := mg.Add(r, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := mg.Flush(master); err != nil {
				b.Fatal(err)
			}
			master.Tick(now.Add(time.Duration(i) * time.Second))
		}
		b.ReportMetric(float64(size)/workers, "report-bytes/worker")
		b.ReportMetric(float64(len(raw[0])), "series/worker")
	})
	b.Run("separately", func(b *testing.B) {
		master := metrics.NewRegistry()
		now := time.Now()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, r := range reports {
				ds, err := DecodeDeltas(r)
				if err != nil {
					b.Fatal(err)
				}
				for _, d := range ds {
					master.MergeDelta(d)
				}
			}
			master.Tick(now.Add(time.Duration(i) * time.Second))
		}
	})
}

func TestStatusLine(t *testing.T) {
	reg := metrics.NewRegistry()
	start := time.Now()
	reg.Start(start, 0)
	mg := NewMerger()
	for _, seed := range []uint64{1, 2} {
		mg.Add(EncodeDeltas(secondOfLoad(100, 2, seed)), nil)
	}
	mg.Flush(reg)
	reg.Set(reg.Builtin.VUs, nil, 7)
	reg.Tick(start.Add(2500 * time.Millisecond))
	if got, want := StatusLine(reg, start.Add(2500*time.Millisecond)), "running 2s  VUs 7  200 req/s"; got != want {
		t.Errorf("StatusLine = %q, want %q", got, want)
	}
}
