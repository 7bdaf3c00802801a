package dashboard

import (
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/surgeload/surge/internal/metrics"
)

// Point is one tick of the live charts: rates over the tick, latency of the
// requests that completed during it, and the users at its end.
type Point struct {
	T        float64            `json:"t"`   // seconds since the start of the run
	RPS      float64            `json:"rps"` // requests (or iterations) per second
	FPS      float64            `json:"fps"` // failed requests per second
	Lat      *Latency           `json:"lat,omitempty"`
	Users    float64            `json:"users"`
	Scenario map[string]float64 `json:"scen,omitempty"` // requests/s by scenario
	// ScenarioUsers is the active users by scenario (two scenarios or more).
	ScenarioUsers map[string]float64 `json:"scen_users,omitempty"`
	Warmup        bool               `json:"warmup,omitempty"`
}

// Latency holds the percentiles of one tick, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// collector turns registry ticks into chart points. It remembers the
// cumulative totals it saw at the previous tick; only the tick goroutine
// may call it.
type collector struct {
	reg      *metrics.Registry
	prevT    time.Time
	prev     map[string]float64
	prevHist []int64
}

func newCollector(reg *metrics.Registry) *collector {
	return &collector{reg: reg, prev: map[string]float64{}}
}

// totals are the cumulative values of one tick, keyed by what they count.
type totals struct {
	vals    map[string]float64
	hist    *hdr.Snapshot // merged latency histogram, nil when none
	maxes   map[*metrics.Series]float64
	users   float64
	warmup  bool
	latency *metrics.Metric
}

// point computes what happened since the previous call.
func (c *collector) point(now time.Time) Point {
	cur := c.cumulative(now)
	start := c.reg.StartTime()
	since := c.prevT
	if since.IsZero() || since.Before(start) {
		since = start
	}
	dt := now.Sub(since).Seconds()
	if dt <= 0 {
		dt = 1
	}
	p := Point{T: now.Sub(start).Seconds(), Users: cur.users, Warmup: cur.warmup}
	delta := func(k string) float64 {
		d := cur.vals[k] - c.prev[k]
		if d < 0 { // the totals were reset elsewhere
			d = cur.vals[k]
		}
		return d
	}
	p.RPS = delta("reqs") / dt
	p.FPS = delta("fails") / dt
	for k := range cur.vals {
		if name, ok := cutPrefix(k, "scen:"); ok {
			if p.Scenario == nil {
				p.Scenario = map[string]float64{}
			}
			p.Scenario[name] = delta(k) / dt
		}
	}
	p.Lat = c.latency(cur)
	c.prev, c.prevT = cur.vals, now
	return p
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// latency reads the percentiles of the histogram difference since the
// previous tick, clamped to the largest value recorded in the tick.
func (c *collector) latency(cur totals) *Latency {
	var counts []int64
	if cur.hist != nil {
		counts = cur.hist.Counts
	}
	diff := make([]int64, len(counts))
	var n int64
	for i, v := range counts {
		d := v
		if i < len(c.prevHist) && c.prevHist[i] <= v {
			d = v - c.prevHist[i]
		}
		diff[i] = d
		n += d
	}
	c.prevHist = counts
	if n == 0 {
		return nil
	}
	snap := *cur.hist
	snap.Counts = diff
	a := &metrics.Agg{Type: metrics.Trend, Count: n, Max: cur.vals["lat:max"]}
	a.SetHistogram(&snap)
	if a.Max <= 0 { // no point carried the tick's max: read the histogram's
		a.Max = math.Inf(1)
		a.Max = a.Percentile(99.9999)
	}
	return &Latency{P50: a.Percentile(50), P95: a.Percentile(95), P99: a.Percentile(99), Max: a.Max}
}

// cumulative sums every series' totals (warm-up included) at this tick.
func (c *collector) cumulative(now time.Time) totals {
	b := c.reg.Builtin
	series := c.reg.Series()
	cur := totals{vals: map[string]float64{}, latency: b.IterationDuration}
	reqs, fails := b.Iterations, (*metrics.Metric)(nil)
	for _, s := range series {
		if s.Metric == b.HTTPReqs || s.Metric == b.HTTPReqDuration {
			reqs, fails, cur.latency = b.HTTPReqs, b.HTTPReqFailed, b.HTTPReqDuration
			break
		}
	}
	sec := int(now.Sub(c.reg.StartTime()) / time.Second)
	var hists []*hdr.Snapshot
	for _, s := range series {
		switch s.Metric {
		case reqs:
			v := s.Total.Sum + s.Warmup.Sum
			cur.vals["reqs"] += v
			if name, ok := s.Tags.Get("scenario"); ok {
				cur.vals["scen:"+name] += v
			}
		case fails:
			cur.vals["fails"] += float64(s.Total.Nonzero + s.Warmup.Nonzero)
		case cur.latency:
			hists = append(hists, s.Total.Histogram(), s.Warmup.Histogram())
			if n := len(s.Points); n > 0 && s.Points[n-1].Second == sec {
				cur.vals["lat:max"] = max(cur.vals["lat:max"], s.Points[n-1].Max)
			}
		case b.VUs:
			if n := len(s.Points); n > 0 {
				cur.users = s.Points[n-1].Last
				cur.warmup = s.Points[n-1].Warmup
			}
		}
	}
	cur.hist = mergeCounts(hists)
	return cur
}

// mergeCounts adds histogram snapshots of the same geometry (the registry
// creates every trend histogram alike).
func mergeCounts(hs []*hdr.Snapshot) *hdr.Snapshot {
	var out *hdr.Snapshot
	for _, h := range hs {
		if h == nil {
			continue
		}
		if out == nil {
			c := *h
			c.Counts = append([]int64(nil), h.Counts...)
			out = &c
			continue
		}
		for i := 0; i < len(h.Counts) && i < len(out.Counts); i++ {
			out.Counts[i] += h.Counts[i]
		}
	}
	return out
}

// reset forgets the previous totals after Registry.Reset emptied them.
func (c *collector) reset() {
	c.prev = map[string]float64{}
	c.prevHist = nil
}
