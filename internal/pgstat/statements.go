package pgstat

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// QueryStat is one statement's figures from pg_stat_statements, either
// cumulative (one snapshot) or over a window (Diff of two). Times are ms.
type QueryStat struct {
	QueryID  int64  `json:"queryid"`
	UserID   uint32 `json:"userid"`
	DBID     uint32 `json:"dbid"`
	TopLevel bool   `json:"toplevel"`
	Query    string `json:"query"`

	Calls    int64   `json:"calls"`
	TotalMs  float64 `json:"total_ms"`
	MeanMs   float64 `json:"mean_ms"`
	StddevMs float64 `json:"stddev_ms"`
	Rows     int64   `json:"rows"`

	SharedHit     int64 `json:"shared_blks_hit"`
	SharedRead    int64 `json:"shared_blks_read"`
	SharedDirtied int64 `json:"shared_blks_dirtied"`
	SharedWritten int64 `json:"shared_blks_written"`
	TempRead      int64 `json:"temp_blks_read"`
	TempWritten   int64 `json:"temp_blks_written"`

	// Share is TotalMs over the total of the top-level statements in the
	// same snapshot or window (statements run inside functions are tracked
	// too with pg_stat_statements.track = all, and their time is already
	// in their caller's); set by Diff.
	Share float64 `json:"share"`
}

// HitRatio is the share of shared blocks found in the buffer cache, or 1
// when the statement touched no blocks.
func (q QueryStat) HitRatio() float64 {
	if q.SharedHit+q.SharedRead == 0 {
		return 1
	}
	return float64(q.SharedHit) / float64(q.SharedHit+q.SharedRead)
}

// IO is the blocks the statement read from outside the cache or wrote to
// temporary files: the --by io ordering.
func (q QueryStat) IO() int64 { return q.SharedRead + q.TempRead + q.TempWritten }

type statKey struct {
	queryID  int64
	userID   uint32
	dbID     uint32
	topLevel bool
}

func (q QueryStat) key() statKey { return statKey{q.QueryID, q.UserID, q.DBID, q.TopLevel} }

// Snapshot is pg_stat_statements for the current database at one moment.
type Snapshot struct {
	Taken    time.Time
	Database string
	Server   string // server_version
	Stats    []QueryStat
}

// marker tags surge's own queries so they never show in the results.
const marker = "/* surge:pgstat */"

// TakeSnapshot reads pg_stat_statements for the connected database. It
// finds the view's schema and columns from the catalog, so it works with
// the extension's versions for PostgreSQL 13 to 18 (total_exec_time was
// total_time before 13; toplevel came in 14). Statistics are never reset.
func TakeSnapshot(ctx context.Context, conn *pgx.Conn) (*Snapshot, error) {
	view, cols, err := statementsView(ctx, conn)
	if err != nil {
		return nil, err
	}
	q, err := statementsQuery(view, cols)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Taken: time.Now(), Server: conn.PgConn().ParameterStatus("server_version"),
		Database: conn.Config().Database}
	rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, statementsError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var st QueryStat
		var query *string
		err := rows.Scan(&st.QueryID, &st.UserID, &st.DBID, &st.TopLevel, &query, &st.Calls,
			&st.TotalMs, &st.MeanMs, &st.StddevMs, &st.Rows, &st.SharedHit, &st.SharedRead,
			&st.SharedDirtied, &st.SharedWritten, &st.TempRead, &st.TempWritten)
		if err != nil {
			return nil, fmt.Errorf("reading pg_stat_statements: %w", err)
		}
		if query != nil {
			st.Query = *query
		} else {
			st.Query = "<insufficient privilege>"
		}
		if !strings.Contains(st.Query, marker) {
			s.Stats = append(s.Stats, st)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, statementsError(err)
	}
	return s, nil
}

// SnapshotDSN connects to dsn, takes a snapshot and disconnects.
func SnapshotDSN(ctx context.Context, dsn string) (*Snapshot, error) {
	conn, err := Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return TakeSnapshot(ctx, conn)
}

func statementsError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.Contains(pe.Message, "pg_stat_statements") {
		return &friendlyError{NoExtensionHelp() + " (" + pe.Message + ")", ErrNoExtension}
	}
	return fmt.Errorf("reading pg_stat_statements: %w", Friendly(err, "", 0))
}

// statementsView finds the extension's schema-qualified view and its
// columns.
func statementsView(ctx context.Context, conn *pgx.Conn) (string, map[string]bool, error) {
	var schema string
	err := conn.QueryRow(ctx, marker+` SELECT n.nspname FROM pg_extension e
		JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`).Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, &friendlyError{NoExtensionHelp() + fmt.Sprintf(" (the extension is not created in database %q)",
			conn.Config().Database), ErrNoExtension}
	}
	if err != nil {
		return "", nil, fmt.Errorf("looking for pg_stat_statements: %w", Friendly(err, "", 0))
	}
	view := pgx.Identifier{schema, "pg_stat_statements"}.Sanitize()
	rows, err := conn.Query(ctx, marker+` SELECT attname FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, view)
	if err != nil {
		return "", nil, fmt.Errorf("reading the columns of pg_stat_statements: %w", Friendly(err, "", 0))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", nil, fmt.Errorf("reading the columns of pg_stat_statements: %w", err)
	}
	cols := map[string]bool{}
	for _, n := range names {
		cols[n] = true
	}
	return view, cols, nil
}

// statementsQuery builds the SELECT for the columns this version has.
func statementsQuery(view string, cols map[string]bool) (string, error) {
	pick := func(names ...string) (string, error) {
		for _, n := range names {
			if cols[n] {
				return n, nil
			}
		}
		return "", fmt.Errorf("pg_stat_statements has none of the columns %s: unsupported version", strings.Join(names, ", "))
	}
	exprs := []string{"queryid", "userid", "dbid", "true", "query"}
	if cols["toplevel"] {
		exprs[3] = "toplevel"
	}
	for _, alt := range [][]string{{"calls"}, {"total_exec_time", "total_time"}, {"mean_exec_time", "mean_time"},
		{"stddev_exec_time", "stddev_time"}, {"rows"}, {"shared_blks_hit"}, {"shared_blks_read"},
		{"shared_blks_dirtied"}, {"shared_blks_written"}, {"temp_blks_read"}, {"temp_blks_written"}} {
		c, err := pick(alt...)
		if err != nil {
			return "", err
		}
		exprs = append(exprs, c)
	}
	return fmt.Sprintf("%s SELECT %s FROM %s WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND queryid IS NOT NULL",
		marker, strings.Join(exprs, ", "), view), nil
}

// Diff returns what ran between two snapshots of the same server: per
// statement, the calls, time, rows and blocks added after before was taken.
// A nil before gives the cumulative figures of after. A statement whose
// counters went down (statistics reset or evicted in between) counts from
// zero. The standard deviation over the window is exact: it is recovered
// from each snapshot's calls, mean and stddev. The result is ordered by
// total time, with Share set.
func Diff(before, after *Snapshot) []QueryStat {
	prev := map[statKey]QueryStat{}
	if before != nil {
		for _, q := range before.Stats {
			prev[q.key()] = q
		}
	}
	var out []QueryStat
	var total float64
	for _, a := range after.Stats {
		d := a
		if b, ok := prev[a.key()]; ok && a.Calls >= b.Calls {
			d = subtract(a, b)
		}
		if d.Calls == 0 {
			continue
		}
		if d.TopLevel { // nested statements' time is inside their callers'
			total += d.TotalMs
		}
		out = append(out, d)
	}
	for i := range out {
		if total > 0 {
			out[i].Share = out[i].TotalMs / total
		}
	}
	Sort(out, "total")
	return out
}

func subtract(a, b QueryStat) QueryStat {
	d := a
	d.Calls = a.Calls - b.Calls
	d.TotalMs = math.Max(a.TotalMs-b.TotalMs, 0)
	d.Rows = a.Rows - b.Rows
	d.SharedHit, d.SharedRead = a.SharedHit-b.SharedHit, a.SharedRead-b.SharedRead
	d.SharedDirtied, d.SharedWritten = a.SharedDirtied-b.SharedDirtied, a.SharedWritten-b.SharedWritten
	d.TempRead, d.TempWritten = a.TempRead-b.TempRead, a.TempWritten-b.TempWritten
	d.MeanMs, d.StddevMs = 0, 0
	if d.Calls > 0 {
		n := float64(d.Calls)
		d.MeanMs = d.TotalMs / n
		variance := (sumSquares(a)-sumSquares(b))/n - d.MeanMs*d.MeanMs
		d.StddevMs = math.Sqrt(math.Max(variance, 0))
	}
	return d
}

// sumSquares is Σx² of a statement's call times, from the population
// stddev and mean pg_stat_statements keeps: n·(σ² + μ²).
func sumSquares(q QueryStat) float64 {
	return float64(q.Calls) * (q.StddevMs*q.StddevMs + q.MeanMs*q.MeanMs)
}

// Orderings accepted by Sort and surge db top --by.
var Orderings = []string{"total", "mean", "calls", "rows", "io"}

// Sort orders stats by one of Orderings, largest first, ties by total time.
func Sort(stats []QueryStat, by string) error {
	val := map[string]func(QueryStat) float64{
		"total": func(q QueryStat) float64 { return q.TotalMs },
		"mean":  func(q QueryStat) float64 { return q.MeanMs },
		"calls": func(q QueryStat) float64 { return float64(q.Calls) },
		"rows":  func(q QueryStat) float64 { return float64(q.Rows) },
		"io":    func(q QueryStat) float64 { return float64(q.IO()) },
	}[by]
	if val == nil {
		return fmt.Errorf("unknown ordering %q (use one of %s)", by, strings.Join(Orderings, ", "))
	}
	sort.SliceStable(stats, func(i, j int) bool {
		if va, vb := val(stats[i]), val(stats[j]); va != vb {
			return va > vb
		}
		return stats[i].TotalMs > stats[j].TotalMs
	})
	return nil
}

// SlowestReadOnly picks the statement with the highest mean time among the
// read-only ones (see IsReadOnly): the candidate for ExplainReadOnly after a
// load test.
func SlowestReadOnly(stats []QueryStat) (QueryStat, bool) {
	var best QueryStat
	found := false
	for _, q := range stats {
		if IsReadOnly(q.Query) && (!found || q.MeanMs > best.MeanMs) {
			best, found = q, true
		}
	}
	return best, found
}
