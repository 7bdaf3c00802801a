package metrics

import "sync"

// Shard is where a group of virtual users records samples. Its lock is held
// for a few additions at a time and contended only by the users that share
// it and by the once-a-second Tick.
type Shard struct {
	reg   *Registry
	mu    sync.Mutex
	sinks map[seriesKey]*Agg
	keys  []seriesKey
}

// Add records v for metric m with tags t.
func (s *Shard) Add(m *Metric, t *TagSet, v float64) {
	s.mu.Lock()
	a := s.sinkLocked(m, t)
	a.Add(v)
	if m.Type == Gauge {
		a.lastSeq = s.reg.seq.Add(1)
	}
	s.mu.Unlock()
}

// Sink returns the accumulator of (m, t) in this shard. It lives as long as
// the registry, so callers may keep it and record with Lock, Agg.Add and
// Unlock, saving the map lookup on hot paths.
func (s *Shard) Sink(m *Metric, t *TagSet) *Agg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sinkLocked(m, t)
}

// Lock and Unlock guard direct use of the shard's sinks.
func (s *Shard) Lock()   { s.mu.Lock() }
func (s *Shard) Unlock() { s.mu.Unlock() }

func (s *Shard) sinkLocked(m *Metric, t *TagSet) *Agg {
	k := seriesKey{m, t}
	a, ok := s.sinks[k]
	if !ok {
		a = NewAgg(m.Type)
		s.sinks[k] = a
		s.keys = append(s.keys, k)
	}
	return a
}
