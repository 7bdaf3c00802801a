package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sync"
	"time"

	pprofile "github.com/google/pprof/profile"

	"github.com/surgeload/surge/internal/pgstat"
	"github.com/surgeload/surge/internal/profile"
	"github.com/surgeload/surge/internal/report"
)

// Attach is what surge records about the system under test while the load
// runs: CPU profiles of the service, one per load stage, and the SQL that
// ran against PostgreSQL during the test.
type Attach struct {
	ProfilePID int    // profile this process with perf_event_open
	ProfileURL string // or this Go service's /debug/pprof endpoint
	ProfileDir string // where profiles are saved (default .surge/profiles)
	// Cuts are the offsets from the start at which one profile ends and the
	// next begins (stage boundaries); Targets are the stages' target loads,
	// used to name the lightest and heaviest stage.
	Cuts    []time.Duration
	Targets []float64

	PGDSN     string // snapshot pg_stat_statements before and after
	PGExplain bool   // EXPLAIN ANALYZE the slowest read-only statement
}

func (a *Attach) active() bool {
	return a != nil && (a.ProfilePID != 0 || a.ProfileURL != "" || a.PGDSN != "")
}

// attachment is an Attach while the test runs.
type attachment struct {
	a        *Attach
	session  *profile.Session
	mu       sync.Mutex
	profiles []*pprofile.Profile
	cutErr   error
	next     int
	pgBefore *pgstat.Snapshot
	wg       sync.WaitGroup
}

// startAttach opens the profiler and takes the first SQL snapshot. Failing
// to reach the target is an error before the load starts: a profile of the
// wrong thing, or none, is worse than no run.
func startAttach(ctx context.Context, a *Attach) (*attachment, error) {
	at := &attachment{a: a}
	if a.PGDSN != "" {
		snap, err := pgstat.SnapshotDSN(ctx, a.PGDSN)
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("--pg: %w", err)}
		}
		at.pgBefore = snap
	}
	if a.ProfilePID != 0 || a.ProfileURL != "" {
		s, err := profile.Start(ctx, profile.Target{PID: a.ProfilePID, URL: a.ProfileURL}, profile.Options{})
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("profiling the target: %w", err)}
		}
		at.session = s
	}
	return at, nil
}

// tick cuts a profile when the run passes a stage boundary.
func (at *attachment) tick(elapsed time.Duration) {
	if at.session == nil || at.next >= len(at.a.Cuts) || elapsed < at.a.Cuts[at.next] {
		return
	}
	at.next++
	at.wg.Add(1)
	go func() { // a URL target's cut waits for its chunk: keep the ticker free
		defer at.wg.Done()
		p, err := at.session.Cut()
		at.mu.Lock()
		defer at.mu.Unlock()
		if err != nil {
			at.cutErr = errors.Join(at.cutErr, err)
			return
		}
		at.profiles = append(at.profiles, p)
	}()
}

// finish stops the profiler, takes the second snapshot and turns both into
// summary attachments.
func (at *attachment) finish(ctx context.Context, sum *report.Summary) error {
	var errs error
	if at.session != nil {
		at.wg.Wait()
		p, err := at.session.Stop()
		if err == nil && p != nil {
			at.profiles = append(at.profiles, p)
		}
		errs = errors.Join(errs, at.cutErr, err, at.saveProfiles(sum))
	}
	if at.pgBefore != nil {
		errs = errors.Join(errs, at.sql(ctx, sum))
	}
	return errs
}

func (at *attachment) saveProfiles(sum *report.Summary) error {
	dir := at.a.ProfileDir
	if dir == "" {
		dir = filepath.Join(".surge", "profiles")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving profiles: %w", err)
	}
	var text bytes.Buffer
	for i, p := range at.profiles {
		base := filepath.Join(dir, fmt.Sprintf("cpu-stage-%d", i+1))
		if err := writeFile(base+".pb.gz", p.Write); err != nil {
			return err
		}
		var fg bytes.Buffer
		if err := profile.WriteFlameGraph(&fg, p); err != nil {
			return fmt.Errorf("flame graph of stage %d: %w", i+1, err)
		}
		if err := os.WriteFile(base+".html", fg.Bytes(), 0o644); err != nil {
			return fmt.Errorf("saving profiles: %w", err)
		}
		fmt.Fprintf(&text, "stage %d: %s (%s.pb.gz, %s.html)\n", i+1, profile.Sentence(nil, p), base, base)
		sum.Attachments = append(sum.Attachments, report.Attachment{Title: fmt.Sprintf("CPU flame graph, stage %d", i+1), HTML: template.HTML(iframe(fg.Bytes()))})
	}
	if lo, hi := at.lightHeavy(); lo != hi {
		fmt.Fprintf(&text, "stage %d vs stage %d: %s\n", hi+1, lo+1, profile.Sentence(at.profiles[lo], at.profiles[hi]))
		var diff bytes.Buffer
		if err := profile.WriteDiffFlameGraph(&diff, at.profiles[lo], at.profiles[hi]); err == nil {
			path := filepath.Join(dir, fmt.Sprintf("cpu-diff-stage-%d-vs-%d.html", hi+1, lo+1))
			os.WriteFile(path, diff.Bytes(), 0o644)
			fmt.Fprintf(&text, "differential flame graph: %s\n", path)
			sum.Attachments = append(sum.Attachments, report.Attachment{Title: fmt.Sprintf("CPU: stage %d against stage %d (red: more)", hi+1, lo+1), HTML: template.HTML(iframe(diff.Bytes()))})
		}
	}
	sum.Attachments = append([]report.Attachment{{Title: "PROFILES", Text: text.String()}}, sum.Attachments...)
	return nil
}

// lightHeavy returns the indexes of the stages with the lowest and highest
// target load.
func (at *attachment) lightHeavy() (lo, hi int) {
	n := min(len(at.profiles), len(at.a.Targets))
	for i := 0; i < n; i++ {
		if at.a.Targets[i] < at.a.Targets[lo] {
			lo = i
		}
		if at.a.Targets[i] > at.a.Targets[hi] {
			hi = i
		}
	}
	return lo, hi
}

func iframe(page []byte) string {
	return `<iframe style="width:100%;height:480px;border:0" srcdoc="` + template.HTMLEscapeString(string(page)) + `"></iframe>`
}

func (at *attachment) sql(ctx context.Context, sum *report.Summary) error {
	after, err := pgstat.SnapshotDSN(ctx, at.a.PGDSN)
	if err != nil {
		return fmt.Errorf("--pg: second snapshot: %w", err)
	}
	stats := pgstat.Diff(at.pgBefore, after)
	var text, html bytes.Buffer
	opts := pgstat.TopOptions{Limit: 10, By: "total", Window: after.Taken.Sub(at.pgBefore.Taken)}
	if err := pgstat.WriteTopText(&text, stats, opts); err != nil {
		return err
	}
	pgstat.WriteTopHTML(&html, stats, opts)
	sum.Attachments = append(sum.Attachments, report.Attachment{Title: "SQL DURING THE TEST", Text: text.String(), HTML: template.HTML(html.String())})
	if !at.a.PGExplain {
		return nil
	}
	q, ok := pgstat.SlowestReadOnly(stats)
	if !ok {
		return nil
	}
	plan, err := pgstat.ExplainReadOnly(ctx, at.a.PGDSN, q.Query)
	if err != nil {
		// pg_stat_statements keeps normalized text ($1 for constants), which
		// often cannot be planned as is: say so, the run itself succeeded
		sum.Attachments = append(sum.Attachments, report.Attachment{Title: "PLAN OF THE SLOWEST READ-ONLY STATEMENT",
			Text: fmt.Sprintf("not explained: %v\nrun surge db explain with the parameters filled in:\n%s\n", err, q.Query)})
		return nil
	}
	var pt, ph bytes.Buffer
	pgstat.WriteText(&pt, plan, pgstat.TextOptions{})
	pgstat.WriteHTMLSection(&ph, plan)
	sum.Attachments = append(sum.Attachments, report.Attachment{Title: "PLAN OF THE SLOWEST READ-ONLY STATEMENT", Text: pt.String(), HTML: template.HTML(ph.String())})
	return nil
}
