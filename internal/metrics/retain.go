package metrics

import "sort"

// A series keeps one point per second for the last RecentSeconds of a run;
// older seconds are merged into buckets, so that a series holds at most
// PointBudget points however long the run lasts (a point
// is about 100 bytes, and a script with a few request names has hundreds of
// series: without this, a day-long soak test would hold gigabytes of
// points). Buckets are res seconds wide, aligned to multiples of res, and
// res doubles whenever the old part of the run would need more than
// OldBuckets of them. Every series of a registry shares the same buckets,
// so points of one bucket line up across series.
//
// A merged point is exact for what adds up (count, sum, nonzero), for min
// and max, and for the last value. Its p90, p95 and p99 are the worst of
// the merged seconds', so that a one-second spike stays visible in a long
// run (as the HTML report's charts merge seconds); its p50 is their
// count-weighted mean. Exact percentiles of any span need histograms: the
// totals have them. Warm-up seconds are never merged with measured ones.
var (
	RecentSeconds = 300
	OldBuckets    = 600
)

// Width is how many seconds the point covers: 1, or more for a point that
// merges older seconds (see RecentSeconds).
func (p Point) Width() int {
	if p.Span > 1 {
		return p.Span
	}
	return 1
}

// agingBatch is how many seconds may age past RecentSeconds before they
// are merged: merging moves the recent points, so it is done a minute at a
// time, not every second.
const agingBatch = 60

// PointBudget is the most points a series holds: the recent seconds, the
// buckets, the seconds aging in a batch, a bucket split at the end of the
// warm-up, and the open second.
func PointBudget() int { return RecentSeconds + OldBuckets + agingBatch + 2 }

// retainLocked merges the points older than RecentSeconds before second
// sec into buckets, agingBatch seconds at a time. Only the seconds that
// aged since the last call are merged (into the last, partial bucket),
// unless the buckets widen.
func (r *Registry) retainLocked(sec int) {
	edge := sec - RecentSeconds // seconds before edge are merged
	if edge <= 0 {
		return
	}
	res, cut := max(r.res, 1), r.cut
	for (edge+res-1)/res > OldBuckets {
		res *= 2
	}
	widened := res != max(r.res, 1)
	if res == 1 || edge-cut < agingBatch && !widened {
		return // one-second buckets merge nothing
	}
	for _, s := range r.list {
		from := 0
		if !widened {
			// from the bucket that holds cut: it may be partial
			b := cut - mod(cut, res)
			from = sort.Search(len(s.Points), func(i int) bool { return s.Points[i].Second >= b })
		}
		s.Points = compactPoints(s.Points, from, edge, res, r.split)
	}
	r.res, r.cut = res, edge
}

// compactPoints merges the points ps[from:] that lie before cut into
// buckets of res seconds aligned to multiples of res, in place; the bucket
// that holds cut is merged up to cut (partial, it grows on the next call). A
// bucket's warm-up and measured seconds stay two points, split at second
// split (the first after the warm-up, when known and inside the bucket) in
// every series, or else where the measured ones begin. ps[from] must begin
// a bucket.
func compactPoints(ps []Point, from, cut, res, split int) []Point {
	w, i := from, from
	for i < len(ps) && ps[i].Second < cut {
		b := ps[i].Second - mod(ps[i].Second, res)
		end := min(b+res, cut)
		runStart := b
		for i < len(ps) && ps[i].Second < end {
			m := ps[i]
			for i++; i < len(ps) && ps[i].Second < end && ps[i].Warmup == m.Warmup; i++ {
				m.merge(ps[i])
			}
			runEnd := end
			if i < len(ps) && ps[i].Second < end {
				runEnd = ps[i].Second
			}
			if split > runStart && split < runEnd {
				if m.Warmup {
					runEnd = split
				} else {
					runStart = split
				}
			}
			m.Second, m.Span = runStart, runEnd-runStart
			if m.Span == 1 {
				m.Span = 0
			}
			ps[w] = m
			w++
			runStart = runEnd
		}
	}
	n := copy(ps[w:], ps[i:])
	clear(ps[w+n:])
	return ps[:w+n]
}

// merge folds the later point q into p.
func (p *Point) merge(q Point) {
	n := p.Count + q.Count
	if n > 0 {
		p.P50 = (p.P50*float64(p.Count) + q.P50*float64(q.Count)) / float64(n)
	}
	p.P90, p.P95, p.P99 = max(p.P90, q.P90), max(p.P95, q.P95), max(p.P99, q.P99)
	p.Count = n
	p.Sum += q.Sum
	p.Min = min(p.Min, q.Min)
	p.Max = max(p.Max, q.Max)
	p.Nonzero += q.Nonzero
	p.Last = q.Last
}

func mod(a, b int) int {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// SetRetention sets RecentSeconds and OldBuckets, for a test that needs
// merges within a short run, and returns what restores them:
//
//	defer metrics.SetRetention(20, 10)()
func SetRetention(recent, old int) (restore func()) {
	r, o := RecentSeconds, OldBuckets
	RecentSeconds, OldBuckets = recent, old
	return func() { RecentSeconds, OldBuckets = r, o }
}
