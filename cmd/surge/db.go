package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/term"

	"github.com/surgeload/surge/internal/pgstat"
)

func init() {
	register(command{
		name:    "db",
		summary: "PostgreSQL: EXPLAIN ANALYZE with self times and findings, top statements from pg_stat_statements",
		run:     runDB,
	})
}

const dbUsage = `usage: surge db explain --dsn URL "SQL" | -f FILE | --plan PLAN.json
       surge db top --dsn URL [--by total|mean|calls|rows|io] [--window 60s] [--watch]

run 'surge db explain -h' or 'surge db top -h' for the flags; docs/db.md has the details`

func runDB(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, dbUsage)
		return nil
	}
	switch args[0] {
	case "explain":
		return runDBExplain(ctx, stdout, args[1:])
	case "top":
		return runDBTop(ctx, stdout, args[1:])
	}
	return usageErrorf("unknown subcommand %q: use 'surge db explain' or 'surge db top'", args[0])
}

var dbFormats = []string{"text", "json", "html"}

// dsnOrEnv falls back to $DATABASE_URL after parsing, so that -h never
// prints a password from the environment as the flag's default.
func dsnOrEnv(dsn string) string {
	if dsn == "" {
		return os.Getenv("DATABASE_URL")
	}
	return dsn
}

type dbExplainFlags struct {
	dsn, file, plan, format string
	commit, noAnalyze       bool
	timeout                 time.Duration
}

func runDBExplain(ctx context.Context, stdout io.Writer, args []string) error {
	var f dbExplainFlags
	fs := newFlagSet("db explain")
	fs.StringVar(&f.dsn, "dsn", "", "PostgreSQL connection URL or key=value string (default $DATABASE_URL)")
	fs.StringVar(&f.file, "f", "", "read the SQL statement from `FILE` (- for standard input)")
	fs.StringVar(&f.plan, "plan", "", "analyze a saved EXPLAIN (FORMAT JSON) plan from `FILE` (- for standard input) instead of running anything")
	fs.BoolVar(&f.commit, "commit", false, "keep the statement's changes (by default it runs in a transaction that is rolled back)")
	fs.BoolVar(&f.noAnalyze, "no-analyze", false, "show the planner's plan without running the statement")
	fs.DurationVar(&f.timeout, "timeout", 0, "cancel the statement after this long (statement_timeout); 0 keeps the server's")
	fs.StringVar(&f.format, "format", "text", "output: text, json or html (a fragment for a report)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if !slices.Contains(dbFormats, f.format) {
		return usageErrorf("--format %q: use text, json or html", f.format)
	}
	p, err := explainPlan(ctx, f, strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	return writePlan(stdout, p, f.format)
}

func explainPlan(ctx context.Context, f dbExplainFlags, sql string) (*pgstat.Plan, error) {
	sources := 0
	for _, set := range []bool{sql != "", f.file != "", f.plan != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return nil, usageErrorf("give exactly one of: the SQL as an argument, -f FILE, or --plan FILE")
	}
	if f.plan != "" {
		data, err := readFileOrStdin(f.plan)
		if err != nil {
			return nil, usageErrorf("reading plan: %w", err)
		}
		p, err := pgstat.Parse(data)
		if err != nil {
			return nil, usageErrorf("reading plan %q: %w; produce it with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)", f.plan, err)
		}
		return p, nil
	}
	if f.file != "" {
		data, err := readFileOrStdin(f.file)
		if err != nil {
			return nil, usageErrorf("reading SQL: %w", err)
		}
		sql = string(data)
	}
	conn, err := dbConnect(ctx, f.dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgstat.Explain(ctx, conn, sql, pgstat.ExplainOptions{
		NoAnalyze: f.noAnalyze, Commit: f.commit, Timeout: f.timeout})
}

// readFileOrStdin reads path, or standard input for "-" (a plan pasted
// into a pipe).
func readFileOrStdin(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// dbConnect connects, turning a DSN that does not parse into a usage error.
func dbConnect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	dsn = dsnOrEnv(dsn)
	if dsn == "" {
		return nil, usageErrorf("--dsn is required (or set $DATABASE_URL), e.g. --dsn postgres://user@localhost:5432/db")
	}
	conn, err := pgstat.Connect(ctx, dsn)
	if errors.Is(err, pgstat.ErrBadDSN) {
		return nil, withCode(ExitUsage, fmt.Errorf("--dsn: %w", err))
	}
	return conn, err
}

func writePlan(w io.Writer, p *pgstat.Plan, format string) error {
	switch format {
	case "json":
		return pgstat.WriteJSON(w, p)
	case "html":
		return pgstat.WriteHTMLSection(w, p)
	}
	return pgstat.WriteText(w, p, pgstat.TextOptions{Color: pgstat.ColorFor(w, term.IsTerminal)})
}

type dbTopFlags struct {
	dsn, by, format  string
	limit, width     int
	window, duration time.Duration
	watch            bool
}

func runDBTop(ctx context.Context, stdout io.Writer, args []string) error {
	var f dbTopFlags
	fs := newFlagSet("db top")
	fs.StringVar(&f.dsn, "dsn", "", "PostgreSQL connection URL or key=value string (default $DATABASE_URL)")
	fs.StringVar(&f.by, "by", "total", "order by total, mean, calls, rows or io (blocks read and temp blocks)")
	fs.IntVar(&f.limit, "limit", 20, "show this many statements (0 for all)")
	fs.DurationVar(&f.window, "window", 0, "diff two snapshots this far apart instead of the totals since the last reset")
	fs.BoolVar(&f.watch, "watch", false, "repeat: print the statements of every --window (default 10s) until --duration or Ctrl-C")
	fs.DurationVar(&f.duration, "duration", 0, "with --watch, stop after this long (0: until Ctrl-C)")
	fs.StringVar(&f.format, "format", "text", "output: text, json or html (a fragment for a report)")
	fs.IntVar(&f.width, "width", pgstat.DefaultQueryWidth, "cut the query text to this many characters (text output)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := f.validate(fs.NArg()); err != nil {
		return err
	}
	conn, err := dbConnect(ctx, f.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	before, err := pgstat.TakeSnapshot(ctx, conn)
	if err != nil {
		return err
	}
	if !f.watch && f.window == 0 {
		return writeTop(stdout, pgstat.Diff(nil, before), f, 0)
	}
	return watchTop(ctx, stdout, conn, before, f)
}

func (f *dbTopFlags) validate(nargs int) error {
	switch {
	case nargs > 0:
		return usageErrorf("surge db top takes no arguments")
	case !slices.Contains(pgstat.Orderings, f.by):
		return usageErrorf("--by %q: use one of %s", f.by, strings.Join(pgstat.Orderings, ", "))
	case !slices.Contains(dbFormats, f.format):
		return usageErrorf("--format %q: use text, json or html", f.format)
	case f.window < 0 || f.duration < 0 || f.limit < 0:
		return usageErrorf("--window, --duration and --limit cannot be negative")
	case f.duration > 0 && !f.watch:
		return usageErrorf("--duration bounds --watch; for one window use --window")
	case f.width < 10:
		return usageErrorf("--width %d: use at least 10", f.width)
	}
	if f.watch && f.window == 0 {
		f.window = 10 * time.Second
	}
	return nil
}

// watchTop prints the statements of each window, reusing the end of one
// window as the start of the next. Ctrl-C ends the current window early
// and prints what it saw.
func watchTop(ctx context.Context, w io.Writer, conn *pgx.Conn, before *pgstat.Snapshot, f dbTopFlags) error {
	start := time.Now()
	for {
		window := f.window
		if f.duration > 0 {
			window = min(window, f.duration-time.Since(start))
		}
		stopped := sleepCtx(ctx, window)
		after, err := pgstat.TakeSnapshot(context.WithoutCancel(ctx), conn)
		if err != nil {
			return err
		}
		if err := writeTop(w, pgstat.Diff(before, after), f, after.Taken.Sub(before.Taken)); err != nil {
			return err
		}
		if stopped || !f.watch || (f.duration > 0 && time.Since(start) >= f.duration) {
			return nil
		}
		fmt.Fprintln(w)
		before = after
	}
}

// sleepCtx waits d and reports whether ctx ended the wait early.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return true
	case <-t.C:
		return false
	}
}

func writeTop(w io.Writer, stats []pgstat.QueryStat, f dbTopFlags, window time.Duration) error {
	if err := pgstat.Sort(stats, f.by); err != nil {
		return usageErrorf("%w", err)
	}
	opt := pgstat.TopOptions{Limit: f.limit, By: f.by, Window: window, QueryWidth: f.width,
		Color: pgstat.ColorFor(w, term.IsTerminal)}
	switch f.format {
	case "json":
		if f.limit > 0 && len(stats) > f.limit {
			stats = stats[:f.limit]
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			WindowSeconds float64            `json:"window_seconds"`
			By            string             `json:"by"`
			Statements    []pgstat.QueryStat `json:"statements"`
		}{window.Seconds(), f.by, nonNil(stats)})
	case "html":
		return pgstat.WriteTopHTML(w, stats, opt)
	}
	return pgstat.WriteTopText(w, stats, opt)
}

func nonNil(s []pgstat.QueryStat) []pgstat.QueryStat {
	if s == nil {
		return []pgstat.QueryStat{}
	}
	return s
}
