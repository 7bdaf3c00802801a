package profile

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/google/pprof/profile"
)

// StageProfile is the CPU profile of one load stage.
type StageProfile struct {
	Name    string  // as the runner names the stage, e.g. "ramp to 100 users"
	Load    float64 // the stage's load (users, requests/s): picks the lightest and heaviest
	Profile *profile.Profile
}

// Stages records one CPU profile per stage of a load test from one
// Session: the runner calls End at each stage boundary and Finish at the
// end of the test.
type Stages struct {
	ss     *Session
	target Target
	mu     sync.Mutex // End may run on several goroutines
	list   []StageProfile
}

// StartStages begins recording t for a staged load test.
func StartStages(ctx context.Context, t Target, o Options) (*Stages, error) {
	ss, err := Start(ctx, t, o)
	if err != nil {
		return nil, err
	}
	return &Stages{ss: ss, target: t}, nil
}

// End closes the current stage: what was recorded since the previous End
// (or the start) becomes the profile of the stage called name, which it
// returns (a live view shows it while the test goes on).
func (st *Stages) End(name string, load float64) (StageProfile, error) {
	p, err := st.ss.Cut()
	if err != nil {
		return StageProfile{}, fmt.Errorf("profiling stage %q: %w", name, err)
	}
	sp := StageProfile{Name: name, Load: load, Profile: p}
	st.mu.Lock()
	st.list = append(st.list, sp)
	st.mu.Unlock()
	return sp, nil
}

// StageResult is what a staged recording produced.
type StageResult struct {
	Stages []StageProfile
	Heap   *profile.Profile // Go services (URL targets) only: the heap at the end
}

// Finish stops recording. Samples after the last End are dropped (call
// End for the last stage first). For a URL target it also fetches the heap
// profile; failing to do so is not an error for the stages already taken.
func (st *Stages) Finish(ctx context.Context) (StageResult, error) {
	st.mu.Lock()
	res := StageResult{Stages: st.list}
	st.mu.Unlock()
	if _, err := st.ss.Stop(); err != nil && len(st.list) == 0 {
		return res, err
	}
	if st.target.URL != "" {
		h, err := Fetch(ctx, st.target.URL, "heap", 0)
		if err != nil {
			return res, fmt.Errorf("fetching the heap profile at the end: %w", err)
		}
		res.Heap = h
	}
	return res, nil
}

// Extremes returns the lightest and the heaviest stage by Load (the first
// such stage on ties), ignoring stages with no samples; ok is false when
// fewer than two stages have samples.
func (r StageResult) Extremes() (light, heavy StageProfile, ok bool) {
	var withSamples []StageProfile
	for _, s := range r.Stages {
		if s.Profile != nil && len(s.Profile.Sample) > 0 {
			withSamples = append(withSamples, s)
		}
	}
	if len(withSamples) < 2 {
		return light, heavy, false
	}
	light, heavy = withSamples[0], withSamples[0]
	for _, s := range withSamples[1:] {
		if s.Load < light.Load {
			light = s
		}
		if s.Load > heavy.Load {
			heavy = s
		}
	}
	return light, heavy, light.Name != heavy.Name || light.Load != heavy.Load
}

// Summary is the report's sentence, e.g. "at 100 users, 38% of CPU is in
// encoding/json.Marshal, up from 12%". unit names the load ("users").
func (r StageResult) Summary(unit string) string {
	light, heavy, ok := r.Extremes()
	if !ok {
		for i := len(r.Stages) - 1; i >= 0; i-- {
			if p := r.Stages[i].Profile; p != nil && len(p.Sample) > 0 {
				return Sentence(nil, p)
			}
		}
		return "no CPU samples were recorded"
	}
	return fmt.Sprintf("at %s %s, %s", trimFloat(heavy.Load), unit, Sentence(light.Profile, heavy.Profile))
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// Save writes each stage as DIR/cpu-N-NAME.pb.gz (N from 1) and the heap
// as DIR/heap.pb.gz, and returns the paths written.
func (r StageResult) Save(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("saving profiles: %w", err)
	}
	var paths []string
	write := func(name string, p *profile.Profile) error {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("saving profile: %w", err)
		}
		err = p.Write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("saving profile %s: %w", path, err)
		}
		paths = append(paths, path)
		return nil
	}
	for i, s := range r.Stages {
		if s.Profile == nil {
			continue
		}
		if err := write(fmt.Sprintf("cpu-%d-%s.pb.gz", i+1, slug(s.Name)), s.Profile); err != nil {
			return paths, err
		}
	}
	if r.Heap != nil {
		if err := write("heap.pb.gz", r.Heap); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

var nonSlug = regexp.MustCompile(`[^a-zA-Z0-9]+`)

func slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "stage"
	}
	return strings.ToLower(s)
}

// WriteHTML writes the report section: the summary sentence, a flame graph
// per stage, the differential flame graph from the lightest to the heaviest
// stage, and the heap flame graph when there is one. It is an HTML
// fragment; each graph's element id starts with idPrefix.
func (r StageResult) WriteHTML(w io.Writer, unit, idPrefix string) error {
	if len(r.Stages) == 0 {
		return errors.New("no stage profiles to write")
	}
	fmt.Fprintf(w, "<section class=\"surge-profiles\">\n<p>%s</p>\n", template.HTMLEscapeString(r.Summary(unit)))
	for i, s := range r.Stages {
		if s.Profile == nil || len(s.Profile.Sample) == 0 {
			continue
		}
		fmt.Fprintf(w, "<h3>CPU: %s (%s %s)</h3>\n", template.HTMLEscapeString(s.Name), trimFloat(s.Load), template.HTMLEscapeString(unit))
		if err := WriteFlameGraphFragment(w, s.Profile, fmt.Sprintf("%s-stage-%d", idPrefix, i+1)); err != nil {
			return err
		}
	}
	if light, heavy, ok := r.Extremes(); ok {
		fmt.Fprintf(w, "<h3>CPU change from %s to %s</h3>\n", template.HTMLEscapeString(light.Name), template.HTMLEscapeString(heavy.Name))
		if err := WriteDiffFlameGraphFragment(w, light.Profile, heavy.Profile, idPrefix+"-diff"); err != nil {
			return err
		}
	}
	if r.Heap != nil {
		fmt.Fprintln(w, "<h3>Heap at the end (in use)</h3>")
		if err := WriteFlameGraphFragment(w, r.Heap, idPrefix+"-heap"); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, "</section>")
	return err
}
