package metrics

import (
	"testing"
	"time"
)

// TestLongRunPointsBounded runs a long simulated run (with a smaller
// budget than the real one, to be quick), a sample a second with a warm-up, and checks that every series stays within its
// point budget while its points still add up to its totals, cover the run
// without overlap, keep the last RecentSeconds at one-second resolution,
// and never mix warm-up with measured seconds.
func TestLongRunPointsBounded(t *testing.T) {
	const seconds = 5000
	defer SetRetention(40, 20)()
	budget := PointBudget()
	r := NewRegistry()
	start := time.Unix(1000, 0)
	r.Start(start, 90*time.Second)
	sh := r.Shard(0)
	dur, reqs := r.Builtin.HTTPReqDuration, r.Builtin.HTTPReqs
	late := r.Intern(Tag{"name", "late"}) // a series that starts mid-run
	maxLen := 0
	for sec := 0; sec < seconds; sec++ {
		sh.Add(dur, nil, float64(1+sec%100))
		sh.Add(reqs, nil, 1)
		if sec >= seconds/3 && sec%7 == 0 {
			sh.Add(reqs, late, 2)
		}
		r.Tick(start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond))
		for _, s := range r.list {
			maxLen = max(maxLen, len(s.Points))
		}
	}
	if maxLen > budget {
		t.Fatalf("a series held %d points, budget %d", maxLen, budget)
	}
	for _, s := range r.Series() {
		var count, warmCount int64
		var sum, mx float64
		next := -1
		for i, p := range s.Points {
			if p.Second < next {
				t.Fatalf("%s%s: point %d at second %d overlaps the previous one (ends at %d)", s.Metric.Name, s.Tags, i, p.Second, next)
			}
			next = p.Second + p.Width()
			if p.Warmup {
				warmCount += p.Count
			} else {
				count += p.Count
			}
			sum += p.Sum
			mx = max(mx, p.Max)
			if p.Second >= seconds-RecentSeconds && p.Width() != 1 {
				t.Errorf("%s: recent point %+v is merged", s.Metric.Name, p)
			}
		}
		if count != s.Total.Count || warmCount != s.Warmup.Count {
			t.Errorf("%s%s: points count %d (+%d warm-up), totals %d (+%d)", s.Metric.Name, s.Tags, count, warmCount, s.Total.Count, s.Warmup.Count)
		}
		if sum != s.Total.Sum+s.Warmup.Sum || mx != max(s.Total.Max, s.Warmup.Max) {
			t.Errorf("%s%s: points sum %v max %v, totals %v %v", s.Metric.Name, s.Tags, sum, mx, s.Total.Sum+s.Warmup.Sum, s.Total.Max)
		}
		if next != seconds && s.Tags.String() == "" {
			t.Errorf("%s%s: points end at second %d, want %d", s.Metric.Name, s.Tags, next, seconds)
		}
		if s.Tags.String() == "" && s.Metric == reqs {
			// one sample a second: a merged point's count is its width
			for _, p := range s.Points {
				if p.Count != int64(p.Width()) {
					t.Errorf("point %+v: count %d over %d seconds", p, p.Count, p.Width())
				}
			}
		}
	}
}

func TestCompactPointsKeepsWarmupApart(t *testing.T) {
	var ps []Point
	for s := 0; s < 10; s++ {
		ps = append(ps, Point{Second: s, Count: 1, Sum: float64(s), Min: float64(s), Max: float64(s), Last: float64(s), P50: float64(s), Warmup: s < 3})
	}
	ps = compactPoints(ps, 0, 8, 4, 3)
	want := []Point{
		{Second: 0, Span: 3, Count: 3, Sum: 3, Min: 0, Max: 2, Last: 2, P50: 1, Warmup: true},
		{Second: 3, Count: 1, Sum: 3, Min: 3, Max: 3, Last: 3, P50: 3},
		{Second: 4, Span: 4, Count: 4, Sum: 22, Min: 4, Max: 7, Last: 7, P50: 5.5},
		{Second: 8, Count: 1, Sum: 8, Min: 8, Max: 8, Last: 8, P50: 8},
		{Second: 9, Count: 1, Sum: 9, Min: 9, Max: 9, Last: 9, P50: 9},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %+v\nwant %+v", ps, want)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, ps[i], want[i])
		}
	}
}

// TestMergedPointKeepsTheSpike: a one-second latency spike survives a
// merge in p90, p95, p99 and max; p50 and the average are of all seconds.
func TestMergedPointKeepsTheSpike(t *testing.T) {
	p := Point{Second: 0, Count: 3, Sum: 30, Min: 5, Max: 20, P50: 10, P90: 15, P95: 18, P99: 20}
	p.merge(Point{Second: 1, Count: 1, Sum: 900, Min: 900, Max: 900, P50: 900, P90: 900, P95: 900, P99: 900})
	want := Point{Second: 0, Count: 4, Sum: 930, Min: 5, Max: 900, P50: (30 + 900) / 4.0, P90: 900, P95: 900, P99: 900, Last: 0}
	if p != want {
		t.Errorf("merged %+v, want %+v", p, want)
	}
}

// TestCompactPointsSplitsEverySeriesAlike: in the bucket where the warm-up
// ends, a series with no point in the warm-up's part (or none after it)
// still splits there, so its points line up with a dense series'.
func TestCompactPointsSplitsEverySeriesAlike(t *testing.T) {
	measuredOnly := compactPoints([]Point{{Second: 6, Count: 1}, {Second: 7, Count: 1}}, 0, 8, 8, 3)
	if len(measuredOnly) != 1 || measuredOnly[0].Second != 3 || measuredOnly[0].Width() != 5 {
		t.Errorf("measured-only series merged to %+v, want one point over [3, 8)", measuredOnly)
	}
	warmOnly := compactPoints([]Point{{Second: 0, Count: 1, Warmup: true}, {Second: 1, Count: 1, Warmup: true}}, 0, 8, 8, 3)
	if len(warmOnly) != 1 || warmOnly[0].Second != 0 || warmOnly[0].Width() != 3 {
		t.Errorf("warm-up-only series merged to %+v, want one point over [0, 3)", warmOnly)
	}
}
