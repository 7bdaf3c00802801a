package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"path/filepath"
	"strconv"
	"sync"
	"time"

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

	// OnStage, when set, gets each stage's CPU flame graph as soon as the
	// stage ends (the live dashboard shows it); it runs on a goroutine of
	// its own. The summary's attachments come at the end as before.
	OnStage func(report.Attachment)
}

func (a *Attach) active() bool {
	return a != nil && (a.ProfilePID != 0 || a.ProfileURL != "" || a.PGDSN != "")
}

// attachment is an Attach while the test runs.
type attachment struct {
	a        *Attach
	stages   *profile.Stages
	mu       sync.Mutex
	endErr   error
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
		st, err := profile.StartStages(ctx, profile.Target{PID: a.ProfilePID, URL: a.ProfileURL}, profile.Options{})
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("profiling the target: %w", err)}
		}
		at.stages = st
	}
	return at, nil
}

// endStage closes stage i's profile (named by its number, weighed by its
// target load).
func (at *attachment) endStage(i int) {
	load := 1.0
	if i < len(at.a.Targets) {
		load = at.a.Targets[i]
	}
	sp, err := at.stages.End(fmt.Sprintf("stage %d", i+1), load)
	if err == nil && at.a.OnStage != nil {
		at.a.OnStage(stageAttachment(sp, i))
	}
	if err != nil {
		at.mu.Lock()
		at.endErr = errors.Join(at.endErr, err)
		at.mu.Unlock()
	}
}

// stageAttachment is stage i's flame graph, for OnStage.
func stageAttachment(sp profile.StageProfile, i int) report.Attachment {
	samples := 0
	if sp.Profile != nil {
		samples = len(sp.Profile.Sample)
	}
	text := fmt.Sprintf("stage %d (%s users): %d distinct stacks sampled\n", i+1, strconv.FormatFloat(sp.Load, 'f', -1, 64), samples)
	a := report.Attachment{Title: fmt.Sprintf("PROFILE OF STAGE %d", i+1), Text: text}
	if samples == 0 {
		return a
	}
	var html bytes.Buffer
	fmt.Fprintf(&html, "<p>%s</p>\n", template.HTMLEscapeString(text))
	if err := profile.WriteFlameGraphFragment(&html, sp.Profile, fmt.Sprintf("live-stage-%d", i+1)); err == nil {
		a.HTML = template.HTML(html.String())
	}
	return a
}

// tick ends a stage's profile when the run passes a stage boundary.
func (at *attachment) tick(elapsed time.Duration) {
	if at.stages == nil || at.next >= len(at.a.Cuts) || elapsed < at.a.Cuts[at.next] {
		return
	}
	i := at.next
	at.next++
	at.wg.Add(1)
	go func() { // a URL target's End waits for its chunk: keep the ticker free
		defer at.wg.Done()
		at.endStage(i)
	}()
}

// finish stops the profiler, takes the second snapshot and turns both into
// summary attachments.
func (at *attachment) finish(ctx context.Context, sum *report.Summary) error {
	var errs error
	if at.stages != nil {
		at.wg.Wait()
		at.endStage(at.next) // the last stage
		res, err := at.stages.Finish(ctx)
		errs = errors.Join(errs, at.endErr, err, at.saveProfiles(res, sum))
	}
	if at.pgBefore != nil {
		errs = errors.Join(errs, at.sql(ctx, sum))
	}
	return errs
}

func (at *attachment) saveProfiles(res profile.StageResult, sum *report.Summary) error {
	dir := at.a.ProfileDir
	if dir == "" {
		dir = filepath.Join(".surge", "profiles")
	}
	paths, err := res.Save(dir)
	if err != nil {
		return fmt.Errorf("saving profiles: %w", err)
	}
	var text bytes.Buffer
	fmt.Fprintln(&text, res.Summary("users"))
	for _, p := range paths {
		fmt.Fprintln(&text, "saved", p)
	}
	var html bytes.Buffer
	if err := res.WriteHTML(&html, "users", "prof"); err != nil {
		return fmt.Errorf("profile report section: %w", err)
	}
	sum.Attachments = append(sum.Attachments, report.Attachment{Title: "PROFILES", Text: text.String(), HTML: template.HTML(html.String())})
	return nil
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
