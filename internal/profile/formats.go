package profile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// Formats are the output formats Write accepts.
var Formats = []string{"pprof", "flamegraph", "speedscope", "collapsed"}

// Write writes p in format, charting sample type sampleType ("" for the
// profile's default).
func Write(w io.Writer, p *profile.Profile, format, sampleType string) error {
	vi, err := ValueIndex(p, sampleType)
	if err != nil {
		return err
	}
	switch format {
	case "pprof":
		return p.Write(w)
	case "flamegraph", "html":
		return writeFlameGraph(w, p, vi, nil)
	case "speedscope":
		return WriteSpeedscope(w, p, vi)
	case "collapsed":
		return WriteCollapsed(w, p, vi)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// WriteCollapsed writes Brendan Gregg's folded format, one line per
// distinct stack, root first: "main;main.serve;main.hot 42". Lines are
// sorted so that output is stable.
func WriteCollapsed(w io.Writer, p *profile.Profile, vi int) error {
	counts := map[string]int64{}
	for _, s := range p.Sample {
		if s.Value[vi] == 0 {
			continue
		}
		names := frameNames(s)
		for i, n := range names {
			names[i] = strings.ReplaceAll(n, ";", ":")
		}
		counts[strings.Join(names, ";")] += s.Value[vi]
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		fmt.Fprintf(bw, "%s %d\n", k, counts[k])
	}
	return bw.Flush()
}

// speedscope's file format (https://www.speedscope.app/file-format-schema.json),
// "sampled" profile kind.
type ssFile struct {
	Schema   string      `json:"$schema"`
	Shared   ssShared    `json:"shared"`
	Profiles []ssProfile `json:"profiles"`
	Name     string      `json:"name"`
	Exporter string      `json:"exporter"`
}

type ssShared struct {
	Frames []ssFrame `json:"frames"`
}

type ssFrame struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
	Line int64  `json:"line,omitempty"`
}

type ssProfile struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Unit       string  `json:"unit"`
	StartValue int64   `json:"startValue"`
	EndValue   int64   `json:"endValue"`
	Samples    [][]int `json:"samples"`
	Weights    []int64 `json:"weights"`
}

// WriteSpeedscope writes p as a speedscope JSON file (open it at
// speedscope.app or in a local speedscope).
func WriteSpeedscope(w io.Writer, p *profile.Profile, vi int) error {
	st := p.SampleType[vi]
	out := ssFile{
		Schema:   "https://www.speedscope.app/file-format-schema.json",
		Name:     st.Type,
		Exporter: "surge profile",
	}
	prof := ssProfile{Type: "sampled", Name: st.Type, Unit: speedscopeUnit(st.Unit)}
	index := map[ssFrame]int{}
	for _, s := range p.Sample {
		v := s.Value[vi]
		if v == 0 {
			continue
		}
		var stack []int
		for i := len(s.Location) - 1; i >= 0; i-- {
			l := s.Location[i]
			for j := len(l.Line) - 1; j >= 0; j-- {
				f := ssFrame{Line: l.Line[j].Line}
				if fn := l.Line[j].Function; fn != nil {
					f.Name, f.File = fn.Name, fn.Filename
				}
				id, ok := index[f]
				if !ok {
					id = len(out.Shared.Frames)
					index[f] = id
					out.Shared.Frames = append(out.Shared.Frames, f)
				}
				stack = append(stack, id)
			}
		}
		prof.Samples = append(prof.Samples, stack)
		prof.Weights = append(prof.Weights, v)
		prof.EndValue += v
	}
	out.Profiles = []ssProfile{prof}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}

func speedscopeUnit(u string) string {
	switch u {
	case "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes":
		return u
	}
	return "none"
}
