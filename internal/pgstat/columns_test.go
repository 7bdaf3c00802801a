package pgstat

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// columns of pg_stat_statements by extension version, as the catalog lists
// them (only the ones surge reads, plus renamed neighbours).
var pgssColumns = map[string][]string{
	"1.8 (PG 13)": {"userid", "dbid", "queryid", "query", "plans", "total_plan_time", "calls",
		"total_exec_time", "mean_exec_time", "stddev_exec_time", "rows", "shared_blks_hit",
		"shared_blks_read", "shared_blks_dirtied", "shared_blks_written", "temp_blks_read",
		"temp_blks_written", "blk_read_time"},
	"1.7 (PG 12)": {"userid", "dbid", "queryid", "query", "calls", "total_time", "mean_time",
		"stddev_time", "rows", "shared_blks_hit", "shared_blks_read", "shared_blks_dirtied",
		"shared_blks_written", "temp_blks_read", "temp_blks_written", "blk_read_time"},
	"1.11 (PG 17)": {"userid", "dbid", "toplevel", "queryid", "query", "calls", "total_exec_time",
		"mean_exec_time", "stddev_exec_time", "rows", "shared_blks_hit", "shared_blks_read",
		"shared_blks_dirtied", "shared_blks_written", "temp_blks_read", "temp_blks_written",
		"shared_blk_read_time", "stats_since"},
}

func TestStatementsQueryAcrossVersions(t *testing.T) {
	cases := map[string]struct{ has, hasNot []string }{
		"1.7 (PG 12)":  {[]string{"total_time", "mean_time", "stddev_time", ", true, query"}, []string{"total_exec_time", "toplevel"}},
		"1.8 (PG 13)":  {[]string{"total_exec_time", "mean_exec_time", ", true, query"}, []string{"total_time,", "toplevel"}},
		"1.11 (PG 17)": {[]string{"total_exec_time", "toplevel, query"}, []string{"total_time,"}},
	}
	for version, c := range cases {
		cols := map[string]bool{}
		for _, n := range pgssColumns[version] {
			cols[n] = true
		}
		q, err := statementsQuery(`public.pg_stat_statements`, cols)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		for _, h := range c.has {
			if !strings.Contains(q, h) {
				t.Errorf("%s: query lacks %q: %s", version, h, q)
			}
		}
		for _, h := range c.hasNot {
			if strings.Contains(q, h) {
				t.Errorf("%s: query has %q: %s", version, h, q)
			}
		}
	}
	if _, err := statementsQuery("v", map[string]bool{"calls": true}); err == nil ||
		!strings.Contains(err.Error(), "unsupported version") {
		t.Errorf("a view without time columns: %v", err)
	}
}

func TestColorFor(t *testing.T) {
	yes := func(int) bool { return true }
	no := func(int) bool { return false }
	var b strings.Builder
	t.Setenv("NO_COLOR", "")
	if ColorFor(&b, yes) {
		t.Error("a buffer is not a terminal")
	}
	if !ColorFor(os.Stdout, yes) || ColorFor(os.Stdout, no) {
		t.Error("a terminal file should follow isTerminal")
	}
	t.Setenv("NO_COLOR", "1")
	if ColorFor(os.Stdout, yes) {
		t.Error("NO_COLOR is set")
	}
}

// TestNotPreloaded: the extension created but not in
// shared_preload_libraries fails on every read with SQLSTATE 55000; the
// user gets the steps, not the server's terse line alone.
func TestNotPreloaded(t *testing.T) {
	err := statementsError(&pgconn.PgError{Code: "55000",
		Message: "pg_stat_statements must be loaded via shared_preload_libraries"})
	if !errors.Is(err, ErrNoExtension) || !strings.Contains(err.Error(), "restart PostgreSQL") ||
		!strings.Contains(err.Error(), "must be loaded via shared_preload_libraries") {
		t.Errorf("got %v", err)
	}
}
