package bench

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Series is the raw values of one benchmark in one unit, in the order they
// were observed. Units follow Go's benchmark format after benchunit's
// tidying: "sec/op", "B/op", "allocs/op", "B/s", and for commands also
// "user-sec/op", "sys-sec/op" and "peak-RSS-B".
type Series struct {
	Pkg    string    `json:"pkg,omitempty"`
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Values []float64 `json:"values"`
}

// Set is a labeled collection of series: one run of benchmarks, from a
// go test output file, a saved baseline or a run of commands.
type Set struct {
	Label  string
	Series []Series
	// Origin is the saved baseline the set was loaded from, if any (its
	// Series field is not kept).
	Origin *Baseline
	index  map[seriesKey]int
}

type seriesKey struct{ pkg, name, unit string }

// Add appends one observation.
func (s *Set) Add(pkg, name, unit string, v float64) {
	if s.index == nil {
		s.index = make(map[seriesKey]int)
		for i, x := range s.Series {
			s.index[seriesKey{x.Pkg, x.Name, x.Unit}] = i
		}
	}
	k := seriesKey{pkg, name, unit}
	i, ok := s.index[k]
	if !ok {
		i = len(s.Series)
		s.index[k] = i
		s.Series = append(s.Series, Series{Pkg: pkg, Name: name, Unit: unit})
	}
	s.Series[i].Values = append(s.Series[i].Values, v)
}

// Get returns the series for a benchmark and unit.
func (s *Set) Get(pkg, name, unit string) (Series, bool) {
	for _, x := range s.Series {
		if x.Pkg == pkg && x.Name == name && x.Unit == unit {
			return x, true
		}
	}
	return Series{}, false
}

// Len counts the distinct benchmarks (over all units).
func (s *Set) Len() int {
	seen := map[[2]string]bool{}
	for _, x := range s.Series {
		seen[[2]string{x.Pkg, x.Name}] = true
	}
	return len(seen)
}

// LineError is a line of benchmark output that could not be parsed; the
// rest of the input is still used.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParseGoBench reads Go benchmark output (the format of `go test -bench`)
// with benchfmt. Values are tidied (ns/op becomes sec/op, MB/s becomes
// B/s). Lines that start with "Benchmark" but do not parse come back as
// LineErrors; the other results are kept. Benchmark names lose their
// "Benchmark" prefix and keep their -GOMAXPROCS suffix, as in benchstat.
func ParseGoBench(r io.Reader, file, label string) (*Set, []LineError, error) {
	set := &Set{Label: label}
	var bad []LineError
	rd := benchfmt.NewReader(r, file)
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			bad = append(bad, LineError{File: rec.FileName, Line: rec.Line, Msg: rec.Msg})
		case *benchfmt.Result:
			pkg := rec.GetConfig("pkg")
			name := rec.Name.String()
			for _, v := range rec.Values {
				set.Add(pkg, name, v.Unit, v.Value)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return set, bad, fmt.Errorf("reading benchmarks from %s: %w", file, err)
	}
	return set, bad, nil
}

// CommandSet turns command results into a Set: wall time as "sec/op",
// CPU times as "user-sec/op" and "sys-sec/op", and peak memory per run as
// "peak-RSS-B" (when the platform reports it and the command rose above
// surge's own floor).
func CommandSet(label string, results []CommandResult) *Set {
	set := &Set{Label: label}
	for _, r := range results {
		for _, run := range r.Runs {
			set.Add("", r.Command.Name, "sec/op", run.Wall)
		}
		for _, run := range r.Runs {
			set.Add("", r.Command.Name, "user-sec/op", run.User)
		}
		for _, run := range r.Runs {
			set.Add("", r.Command.Name, "sys-sec/op", run.Sys)
		}
		// A peak at or under surge's own floor says nothing about the
		// command (see CommandResult.RSSFloor): leave it out rather
		// than compare surge's memory with itself.
		if r.PeakRSS() > r.RSSFloor {
			for _, run := range r.Runs {
				set.Add("", r.Command.Name, "peak-RSS-B", float64(run.MaxRSS))
			}
		}
	}
	return set
}

// labelOf is the short label for a file: its base name.
func labelOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}
