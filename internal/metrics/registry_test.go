package metrics

import (
	"math"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestShardsMergeExactly(t *testing.T) {
	r := NewRegistry()
	start := time.Unix(1000, 0)
	r.Start(start, 0)
	m := r.Builtin.HTTPReqDuration
	tags := r.Intern(Tag{"name", "a"})
	var wg sync.WaitGroup
	var all []float64
	var mu sync.Mutex
	for vu := 0; vu < 16; vu++ {
		wg.Add(1)
		go func(vu int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(vu)))
			sh := r.Shard(vu)
			var mine []float64
			for i := 0; i < 2000; i++ {
				v := rng.ExpFloat64() * 20
				sh.Add(m, tags, v)
				mine = append(mine, v)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}(vu)
	}
	wg.Wait()
	r.Tick(start.Add(1500 * time.Millisecond))
	tot := r.Total(m)
	if tot.Count != int64(len(all)) {
		t.Fatalf("count %d, want %d", tot.Count, len(all))
	}
	sort.Float64s(all)
	for _, p := range []float64{50, 90, 99, 99.9} {
		exact := all[int(math.Ceil(p/100*float64(len(all))))-1]
		got := tot.Percentile(p)
		if math.Abs(got-exact)/exact > 0.01 {
			t.Errorf("p(%v) = %v, exact %v: more than 1%% off", p, got, exact)
		}
	}
	if tot.Max != all[len(all)-1] || tot.Min != all[0] {
		t.Errorf("min/max %v/%v, want %v/%v", tot.Min, tot.Max, all[0], all[len(all)-1])
	}
}

func TestTickPointsAndWarmup(t *testing.T) {
	r := NewRegistry()
	start := time.Unix(1000, 0)
	r.Start(start, 2*time.Second)
	m := r.Builtin.HTTPReqs
	sh := r.Shard(0)
	for sec := 0; sec < 5; sec++ {
		for i := 0; i <= sec; i++ {
			sh.Add(m, nil, 1)
		}
		r.Tick(start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond))
	}
	s := r.Series()[0]
	if len(s.Points) != 5 {
		t.Fatalf("%d points, want 5", len(s.Points))
	}
	for i, p := range s.Points {
		if p.Second != i || p.Sum != float64(i+1) || p.Warmup != (i < 2) {
			t.Errorf("point %d = %+v", i, p)
		}
	}
	if s.Total.Sum != 3+4+5 || s.Warmup.Sum != 1+2 {
		t.Errorf("total %v warmup %v, want 12 and 3", s.Total.Sum, s.Warmup.Sum)
	}
}

func TestTwoTicksInOneSecondWidenThePoint(t *testing.T) {
	r := NewRegistry()
	start := time.Unix(1000, 0)
	r.Start(start, 0)
	m := r.Builtin.HTTPReqDuration
	r.Shard(0).Add(m, nil, 10)
	r.Tick(start.Add(100 * time.Millisecond))
	r.Shard(1).Add(m, nil, 30)
	r.Tick(start.Add(900 * time.Millisecond))
	s := r.Series()[0]
	if len(s.Points) != 1 || s.Points[0].Count != 2 || s.Points[0].Max != 30 || s.Points[0].Min != 10 {
		t.Fatalf("points %+v", s.Points)
	}
}

func TestIntern(t *testing.T) {
	r := NewRegistry()
	a := r.Intern(Tag{"b", "2"}, Tag{"a", "1"}, Tag{"c", ""})
	b := r.Intern(Tag{"a", "1"}, Tag{"b", "2"})
	if a != b || a.String() != "{a:1,b:2}" {
		t.Fatalf("%p %p %s", a, b, a)
	}
}

func BenchmarkShardAdd(b *testing.B) {
	r := NewRegistry()
	m := r.Builtin.HTTPReqDuration
	tags := r.Intern(Tag{"name", "a"})
	sh := r.Shard(0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sh.Add(m, tags, float64(i%1000))
	}
}

func BenchmarkTick100Series(b *testing.B) {
	r := NewRegistry()
	start := time.Now()
	for i := 0; i < 100; i++ {
		tags := r.Intern(Tag{"name", string(rune('a' + i%26))}, Tag{"n", string(rune('A' + i/26))})
		for s := 0; s < 8; s++ {
			r.Shard(s).Add(r.Builtin.HTTPReqDuration, tags, float64(s+1))
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for s := 0; s < 8; s++ {
			r.Shard(s).Add(r.Builtin.HTTPReqDuration, nil, 1)
		}
		r.Tick(start.Add(time.Duration(i) * time.Second))
	}
}

// TestDeltasMergeExactly: two "workers" record into their own registries and
// ship deltas; the master's totals equal those of one registry that saw
// every sample.
func TestDeltasMergeExactly(t *testing.T) {
	start := time.Unix(1000, 0)
	all, master := NewRegistry(), NewRegistry()
	all.Start(start, 0)
	master.Start(start, 0)
	for w := 0; w < 2; w++ {
		wr := NewRegistry()
		wr.Start(start, 0)
		wr.EnableDeltas()
		rng := rand.New(rand.NewSource(int64(w)))
		for sec := 0; sec < 3; sec++ {
			for i := 0; i < 500; i++ {
				v := rng.ExpFloat64() * 50
				tags := wr.Intern(Tag{"name", "a"})
				wr.Shard(i).Add(wr.Builtin.HTTPReqDuration, tags, v)
				all.Shard(i).Add(all.Builtin.HTTPReqDuration, all.Intern(Tag{"name", "a"}), v)
			}
			wr.Tick(start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond))
			for _, d := range wr.TakeDeltas() {
				if err := master.MergeDelta(d); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	all.Tick(start.Add(3 * time.Second))
	master.Tick(start.Add(3 * time.Second))
	a, m := all.Total(all.Builtin.HTTPReqDuration), master.Total(master.Builtin.HTTPReqDuration)
	if a.Count != 3000 || m.Count != a.Count || m.Max != a.Max || m.Min != a.Min {
		t.Fatalf("master %+v, all %+v", m, a)
	}
	for _, p := range []float64{50, 90, 99, 99.9} {
		if a.Percentile(p) != m.Percentile(p) {
			t.Errorf("p(%v): master %v, union %v", p, m.Percentile(p), a.Percentile(p))
		}
	}
}

// TestStartCountsEarlierSamples: samples recorded before Start (a script's
// setup()) are not part of the load, so they count in the totals whatever
// the warm-up, in a point of second 0 not marked as warm-up; the load's
// samples inside the warm-up are still kept out.
func TestStartCountsEarlierSamples(t *testing.T) {
	for _, tc := range []struct {
		name              string
		warmup            time.Duration
		total, inWarmup   float64
		loadPointIsWarmup bool
	}{
		{"no warm-up", 0, 3 + 4, 0, false},
		{"2s warm-up", 2 * time.Second, 3, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			m := r.Builtin.HTTPReqs
			r.Shard(0).Add(m, nil, 1) // before the start
			r.Shard(1).Add(m, nil, 2)
			start := time.Unix(1000, 0)
			r.Start(start, tc.warmup)
			r.Shard(0).Add(m, nil, 4) // the load's first second
			r.Tick(start.Add(time.Second))
			s := r.Series()[0]
			if s.Total.Sum != tc.total || s.Warmup.Sum != tc.inWarmup {
				t.Errorf("total %v, warm-up %v; want %v and %v", s.Total.Sum, s.Warmup.Sum, tc.total, tc.inWarmup)
			}
			want := []Point{
				{Second: 0, Count: 2, Sum: 3, Min: 1, Max: 2},
				{Second: 1, Count: 1, Sum: 4, Min: 4, Max: 4, Warmup: tc.loadPointIsWarmup},
			}
			if len(s.Points) != len(want) {
				t.Fatalf("points %+v, want %+v", s.Points, want)
			}
			for i := range want {
				if s.Points[i] != want[i] {
					t.Errorf("point %d = %+v, want %+v", i, s.Points[i], want[i])
				}
			}
		})
	}
}

// TestErrorLogGroupsAcrossConnections: the same socket error on different
// connections (different local ports) is one entry.
func TestErrorLogGroupsAcrossConnections(t *testing.T) {
	l := newErrorLog(10)
	for _, port := range []string{"40848", "40850", "51000"} {
		l.Add("request", "request timed out after 50ms: read tcp 127.0.0.1:"+port+"->127.0.0.1:18300: i/o timeout", "GET /slow")
		l.Add("request", "write tcp [::1]:"+port+"->[::1]:80: write: broken pipe", "GET /x")
	}
	l.Add("request", "dial tcp 127.0.0.1:1: connect: connection refused", "GET /y")
	got, other := l.Entries()
	want := []ErrorEntry{
		{"request", "request timed out after 50ms: read tcp 127.0.0.1:18300: i/o timeout", "GET /slow", 3},
		{"request", "write tcp [::1]:80: write: broken pipe", "GET /x", 3},
		{"request", "dial tcp 127.0.0.1:1: connect: connection refused", "GET /y", 1},
	}
	if other != 0 || len(got) != len(want) {
		t.Fatalf("entries %+v (other %d), want %+v", got, other, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
