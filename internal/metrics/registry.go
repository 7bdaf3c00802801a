package metrics

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds a run's metrics, its shards and its series.
type Registry struct {
	mu      sync.Mutex
	metrics map[string]*Metric
	order   []*Metric

	tagMu   sync.Mutex
	tagSets map[string]*TagSet

	shards []*Shard
	series map[seriesKey]*Series
	list   []*Series

	start    time.Time
	warmup   time.Duration
	lastTick time.Time
	seq      atomic.Uint64

	keepDeltas bool
	deltas     []Delta

	// res and cut are the retention buckets (see RecentSeconds): points
	// before second cut are merged into buckets res seconds wide. split is
	// the first second after the warm-up (of the first tick past it), 0
	// until then or without one: merges split buckets there.
	res, cut, split int

	// Builtin holds k6's built-in metrics, created with the registry.
	Builtin *Builtin
	// Errors collects distinct errors and exceptions with their counts.
	Errors *ErrorLog
}

type seriesKey struct {
	m *Metric
	t *TagSet
}

// Series is one (metric, tag set) pair: its run total and its one-second
// points.
type Series struct {
	Metric *Metric
	Tags   *TagSet
	Total  *Agg
	Points []Point
	cur    *Agg // folded from the shards, not yet in a point
	sec    *Agg // the second being built
	secN   int
	// Warmup holds what was recorded during warm-up, kept out of Total.
	Warmup *Agg
}

// Point is one second of a series. Percentiles are filled for trends.
type Point struct {
	Second  int // seconds since the start of the run; the point covers [Second, Second+1)
	Count   int64
	Sum     float64
	Min     float64
	Max     float64
	Nonzero int64
	Last    float64
	P50     float64
	P90     float64
	P95     float64
	P99     float64
	Warmup  bool
	// Span is how many seconds the point covers when it merges older
	// seconds (see RecentSeconds); 0 for a point of one second. Width
	// reads it.
	Span int `json:",omitempty"`
}

// NewRegistry returns a registry with k6's built-in metrics and enough
// shards for this machine's parallelism.
func NewRegistry() *Registry {
	n := 2 * runtime.GOMAXPROCS(0)
	if n < 4 {
		n = 4
	}
	r := &Registry{
		metrics: map[string]*Metric{},
		tagSets: map[string]*TagSet{},
		series:  map[seriesKey]*Series{},
		start:   time.Now(),
		Errors:  newErrorLog(200),
	}
	r.shards = make([]*Shard, n)
	for i := range r.shards {
		r.shards[i] = &Shard{reg: r, sinks: map[seriesKey]*Agg{}}
	}
	r.Builtin = newBuiltin(r)
	return r
}

// Start sets the run's time origin and the warm-up window whose samples are
// kept out of the totals (they still appear, marked, in the time series).
// Samples recorded before it (a script's setup()) are folded now, into the
// totals and a point of second 0: they are not the load, so never its
// warm-up, whose window only begins here.
func (r *Registry) Start(t time.Time, warmup time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start, r.warmup = t, warmup
	r.foldLocked(t, 0, false)
}

// StartTime is the run's time origin.
func (r *Registry) StartTime() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.start
}

// Warmup is the warm-up window set by Start.
func (r *Registry) Warmup() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.warmup
}

// New returns the metric called name, creating it. Asking again for an
// existing name with the same type returns it; a different type is an error.
func (r *Registry) New(name string, t Type, vt ValueType) (*Metric, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("invalid metric name %q: use letters, digits and underscores, at most 128 characters", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.metrics[name]; ok {
		if m.Type != t {
			return nil, fmt.Errorf("metric %q already exists as a %s, not a %s", name, m.Type, t)
		}
		return m, nil
	}
	m := &Metric{Name: name, Type: t, Contains: vt, id: len(r.order)}
	r.metrics[name] = m
	r.order = append(r.order, m)
	return m, nil
}

// MustNew is New for names known to be valid.
func (r *Registry) MustNew(name string, t Type, vt ValueType) *Metric {
	m, err := r.New(name, t, vt)
	if err != nil {
		panic(err)
	}
	return m
}

// Get returns the metric called name, or nil.
func (r *Registry) Get(name string) *Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.metrics[name]
}

// Metrics returns every metric in creation order.
func (r *Registry) Metrics() []*Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Metric(nil), r.order...)
}

// Shard returns the shard for virtual user id.
func (r *Registry) Shard(id int) *Shard {
	if id < 0 {
		id = -id
	}
	return r.shards[id%len(r.shards)]
}

// Set records v for a metric outside any shard, directly into the current
// second (used for gauges the scheduler owns, such as vus).
func (r *Registry) Set(m *Metric, t *TagSet, v float64) {
	s := r.shards[0]
	s.Add(m, t, v)
}

// Tick folds every shard into the series, closing the seconds before now.
// The engine calls it once a second and once at the end; it is cheap to call
// more often.
func (r *Registry) Tick(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// samples folded now were recorded since the previous tick: they belong
	// to the warm-up if the middle of that interval is inside it
	mid := r.lastTick.Add(now.Sub(r.lastTick) / 2)
	inWarmup := r.warmup > 0 && mid.Sub(r.start) < r.warmup
	sec := int(now.Sub(r.start) / time.Second)
	if r.warmup > 0 && !inWarmup && r.split == 0 {
		r.split = sec
	}
	r.foldLocked(now, sec, inWarmup)
}

// TickAfterLoad is Tick for what was recorded after the load ended (a
// script's teardown()): like setup()'s samples, it is not the load, so it
// is never warm-up, even when the load ended inside the warm-up window.
func (r *Registry) TickAfterLoad(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.foldLocked(now, int(now.Sub(r.start)/time.Second), false)
}

// foldLocked moves what the shards hold into second sec of the series, and
// into either their totals or their warm-up.
func (r *Registry) foldLocked(now time.Time, sec int, inWarmup bool) {
	for _, sh := range r.shards {
		sh.mu.Lock()
		for _, k := range sh.keys {
			a := sh.sinks[k]
			if a.Count == 0 {
				continue
			}
			s := r.seriesLocked(k)
			s.cur.Merge(a)
			a.Reset()
		}
		sh.mu.Unlock()
	}
	for _, s := range r.list {
		if s.cur.Count == 0 {
			continue
		}
		if s.secN != sec {
			s.sec.Reset()
			s.secN = sec
		}
		s.sec.Merge(s.cur)
		p := pointOf(sec, s.sec)
		p.Warmup = inWarmup
		if n := len(s.Points); n > 0 && s.Points[n-1].Second == sec {
			s.Points[n-1] = p // several ticks within one second widen its point
		} else {
			s.Points = append(s.Points, p)
		}
		if r.keepDeltas {
			r.deltas = append(r.deltas, deltaOf(s, s.cur))
		}
		if inWarmup {
			s.Warmup.Merge(s.cur)
		} else {
			s.Total.Merge(s.cur)
		}
		s.cur.Reset()
	}
	r.lastTick = now
	r.retainLocked(sec)
}

func (r *Registry) seriesLocked(k seriesKey) *Series {
	s, ok := r.series[k]
	if !ok {
		s = &Series{Metric: k.m, Tags: k.t, Total: NewAgg(k.m.Type), cur: NewAgg(k.m.Type), sec: NewAgg(k.m.Type), secN: -1, Warmup: NewAgg(k.m.Type)}
		r.series[k] = s
		r.list = append(r.list, s)
	}
	return s
}

func pointOf(sec int, a *Agg) Point {
	p := Point{Second: sec, Count: a.Count, Sum: a.Sum, Min: a.Min, Max: a.Max, Nonzero: a.Nonzero, Last: a.Last}
	if a.Type == Trend {
		p.P50, p.P90, p.P95, p.P99 = a.Percentile(50), a.Percentile(90), a.Percentile(95), a.Percentile(99)
	}
	return p
}

// Series returns all series, sorted by metric name then tags.
func (r *Registry) Series() []*Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]*Series(nil), r.list...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Metric.Name != out[j].Metric.Name {
			return out[i].Metric.Name < out[j].Metric.Name
		}
		return out[i].Tags.String() < out[j].Tags.String()
	})
	return out
}

// Total merges the run totals of every series of m whose tags contain
// filter. It returns an empty Agg when nothing matched.
func (r *Registry) Total(m *Metric, filter ...Tag) *Agg {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := NewAgg(m.Type)
	for _, s := range r.list {
		if s.Metric == m && s.Tags.Contains(filter) {
			out.Merge(s.Total)
		}
	}
	return out
}

// Duration is the time from the start to the last tick.
func (r *Registry) Duration(now time.Time) time.Duration { return now.Sub(r.StartTime()) }

// Reset drops every total (warm-up included) and the error log, as
// Locust's "reset statistics"; the one-second points stay, so charts keep
// the run's history.
func (r *Registry) Reset(now time.Time) {
	r.Tick(now)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.list {
		s.Total.Reset()
		s.Warmup.Reset()
	}
	r.Errors.reset()
}
