package metrics

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Delta is what one series gathered during one tick, in a form that can
// cross a process boundary and merge without loss: counts and sums, and
// the whole histogram for trends (never precomputed percentiles). A worker
// of a distributed run sends its deltas every second; the master merges
// them with MergeDelta and its registry then behaves as if the samples had
// been recorded locally.
type Delta struct {
	Metric   string
	Type     Type
	Contains ValueType
	Tags     []Tag
	Count    int64
	Sum      float64
	Min, Max float64
	Nonzero  int64
	Last     float64
	Hist     *hdr.Snapshot `json:",omitempty"`
}

// EnableDeltas makes every later Tick keep what it folded, for TakeDeltas.
func (r *Registry) EnableDeltas() {
	r.mu.Lock()
	r.keepDeltas = true
	r.mu.Unlock()
}

// TakeDeltas returns the deltas folded by the ticks since the last call.
func (r *Registry) TakeDeltas() []Delta {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.deltas
	r.deltas = nil
	return out
}

func deltaOf(s *Series, a *Agg) Delta {
	return Delta{
		Metric: s.Metric.Name, Type: s.Metric.Type, Contains: s.Metric.Contains, Tags: s.Tags.Tags(),
		Count: a.Count, Sum: a.Sum, Min: a.Min, Max: a.Max, Nonzero: a.Nonzero, Last: a.Last,
		Hist: a.Histogram(),
	}
}

// MergeDelta adds a delta from elsewhere, as if its samples had been
// recorded here now. The metric is created if needed; a type mismatch is an
// error.
func (r *Registry) MergeDelta(d Delta) error {
	m, err := r.New(d.Metric, d.Type, d.Contains)
	if err != nil {
		return err
	}
	t := r.Intern(d.Tags...)
	a := &Agg{Type: d.Type, Count: d.Count, Sum: d.Sum, Min: d.Min, Max: d.Max, Nonzero: d.Nonzero, Last: d.Last}
	if d.Hist != nil {
		a.SetHistogram(d.Hist)
	}
	sh := r.shards[0]
	sh.mu.Lock()
	sink := sh.sinkLocked(m, t)
	if d.Type == Gauge {
		a.lastSeq = r.seq.Add(1)
	}
	sink.Merge(a)
	sh.mu.Unlock()
	return nil
}

// Since returns how long ago the registry's run started.
func (r *Registry) Since(now time.Time) time.Duration { return now.Sub(r.StartTime()) }

// TotalDelta is a series' run total as a Delta, for saving a run.
func (s *Series) TotalDelta() Delta { return deltaOf(s, s.Total) }

// Restore adds a saved series (its total and its points) to the registry,
// so that a run read back from disk renders like the live one.
func (r *Registry) Restore(total Delta, points []Point) error {
	m, err := r.New(total.Metric, total.Type, total.Contains)
	if err != nil {
		return err
	}
	t := r.Intern(total.Tags...)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seriesLocked(seriesKey{m, t})
	a := &Agg{Type: total.Type, Count: total.Count, Sum: total.Sum, Min: total.Min, Max: total.Max, Nonzero: total.Nonzero, Last: total.Last}
	if total.Hist != nil {
		a.SetHistogram(total.Hist)
	}
	s.Total.Merge(a)
	s.Points = append(s.Points, points...)
	return nil
}
