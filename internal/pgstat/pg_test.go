package pgstat

import (
	"context"
	"errors"
	"fmt"
	"github.com/surgeload/surge/internal/testenv"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testDSN is the PostgreSQL that test.sh starts. Without it the test is
// skipped, except in CI, where a missing server is a failure.
func testDSN(t *testing.T) string { return testenv.PostgresDSN(t) }

// testSchema creates a schema of its own for one test, with a table t of
// 1,000 rows, and returns a DSN whose search_path points at it.
func testSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	base := testDSN(t)
	schema = fmt.Sprintf("surge_test_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	ctx := context.Background()
	conn, err := Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE SCHEMA " + schema,
		"CREATE TABLE " + schema + ".t (id int PRIMARY KEY, v int NOT NULL)",
		"INSERT INTO " + schema + ".t SELECT g, g % 10 FROM generate_series(1, 1000) g",
		"ANALYZE " + schema + ".t",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c, err := Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	return withParam(t, base, "search_path", schema), schema
}

func withParam(t *testing.T, dsn, key, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func withUser(t *testing.T, dsn, user string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

func sumV(t *testing.T, dsn string) int {
	t.Helper()
	conn, err := Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s int
	if err := conn.QueryRow(context.Background(), "SELECT sum(v) FROM t").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func explainDSN(t *testing.T, dsn, sql string, opt ExplainOptions) (*Plan, error) {
	t.Helper()
	ctx := context.Background()
	conn, err := Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	return Explain(ctx, conn, sql, opt)
}

func TestExplainSelect(t *testing.T) {
	dsn, _ := testSchema(t)
	p, err := explainDSN(t, dsn, "SELECT v, count(*) FROM t WHERE id > 900 GROUP BY v;", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Analyzed || p.ExecutionTime <= 0 || len(p.Nodes) < 2 {
		t.Fatalf("plan not analyzed: analyzed=%v exec=%v nodes=%d", p.Analyzed, p.ExecutionTime, len(p.Nodes))
	}
	if p.Root.ActualRows != 10 {
		t.Errorf("root returned %v rows, want 10 groups", p.Root.ActualRows)
	}
	if p.Note != "" {
		t.Errorf("a SELECT got note %q", p.Note)
	}
}

// TestExplainWriteRollsBack is the acceptance test: a write statement's rows
// are unchanged after explain, and changed only with Commit.
func TestExplainWriteRollsBack(t *testing.T) {
	dsn, _ := testSchema(t)
	before := sumV(t, dsn)
	for _, sql := range []string{
		"UPDATE t SET v = v + 1",
		"DELETE FROM t WHERE id <= 500",
		"INSERT INTO t SELECT g, 5 FROM generate_series(2001, 2100) g",
		"WITH d AS (DELETE FROM t RETURNING v) SELECT sum(v) FROM d",
	} {
		p, err := explainDSN(t, dsn, sql, ExplainOptions{})
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if !strings.Contains(p.Note, "rolled back") {
			t.Errorf("%s: note %q does not say rolled back", sql, p.Note)
		}
		if got := sumV(t, dsn); got != before {
			t.Fatalf("%s changed the rows: sum(v) %d → %d", sql, before, got)
		}
	}
	if _, err := explainDSN(t, dsn, "UPDATE t SET v = v + 1", ExplainOptions{Commit: true}); err != nil {
		t.Fatal(err)
	}
	if got := sumV(t, dsn); got != before+1000 {
		t.Errorf("with Commit sum(v) = %d, want %d", got, before+1000)
	}
}

func TestExplainNoAnalyze(t *testing.T) {
	dsn, _ := testSchema(t)
	before := sumV(t, dsn)
	p, err := explainDSN(t, dsn, "UPDATE t SET v = 0", ExplainOptions{NoAnalyze: true, Commit: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Analyzed || p.Root.TotalCost <= 0 {
		t.Errorf("analyzed=%v cost=%v, want an estimate-only plan", p.Analyzed, p.Root.TotalCost)
	}
	if got := sumV(t, dsn); got != before {
		t.Errorf("--no-analyze ran the statement: sum(v) %d → %d", before, got)
	}
}

func TestExplainErrors(t *testing.T) {
	dsn, schema := testSchema(t)
	role := schema + "_reader"
	admin, err := Connect(context.Background(), testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP ROLE "+role) })
	admin.Exec(context.Background(), "GRANT USAGE ON SCHEMA "+schema+" TO "+role)

	cases := []struct {
		name, dsn, sql string
		opt            ExplainOptions
		want           string
		is             error
	}{
		{"syntax error", dsn, "SELECT id\nFORM t", ExplainOptions{}, `syntax error at or near "t" at line 2, column 6: "t"`, nil},
		{"unknown table", dsn, "SELECT * FROM nope", ExplainOptions{}, `relation "nope" does not exist at line 1, column 15: "nope"`, nil},
		{"permission denied", withUser(t, dsn, role), "SELECT * FROM t", ExplainOptions{}, "permission denied for table t (connect as a role with the privilege, or GRANT it)", nil},
		{"statement timeout", dsn, "SELECT pg_sleep(5)", ExplainOptions{Timeout: 50 * time.Millisecond}, "the statement ran longer than the statement timeout and was canceled (raise --timeout)", nil},
		{"parameters", dsn, "SELECT * FROM t WHERE id = $1", ExplainOptions{}, "the statement has parameters ($1); put literal values in their place to explain it", nil},
		{"bad DSN", "postgres://x@127.0.0.1:notaport/db", "SELECT 1", ExplainOptions{}, "invalid DSN", ErrBadDSN},
		{"refused", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable", "SELECT 1", ExplainOptions{}, "connecting to PostgreSQL at 127.0.0.1:1: connection refused (is the server running and listening there?)", nil},
		{"empty", dsn, " ; ", ExplainOptions{}, "no SQL statement to explain", nil},
		{"two statements", dsn, "SELECT 1; SELECT 2", ExplainOptions{}, "give one statement at a time", nil},
		{"DDL", dsn, "-- make it\nCREATE INDEX ON t (v)", ExplainOptions{}, "EXPLAIN cannot take a CREATE statement", nil},
		{"unknown role", withUser(t, dsn, "surge_no_such_role"), "SELECT 1", ExplainOptions{}, `connecting to PostgreSQL at 127.0.0.1:`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := explainDSN(t, c.dsn, c.sql, c.opt)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
}

func TestExplainReadOnly(t *testing.T) {
	dsn, schema := testSchema(t)
	ctx := context.Background()
	p, err := ExplainReadOnly(ctx, dsn, "SELECT count(*) FROM t")
	if err != nil || !p.Analyzed {
		t.Fatalf("read-only SELECT: %v", err)
	}
	if _, err := ExplainReadOnly(ctx, dsn, "DELETE FROM t"); err == nil || !strings.Contains(err.Error(), "may write") {
		t.Errorf("DELETE: err = %v, want a refusal", err)
	}
	// A SELECT that writes through a function is stopped by the READ ONLY
	// transaction.
	admin, err := Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE FUNCTION "+schema+".sneaky() RETURNS int LANGUAGE sql AS 'DELETE FROM "+schema+".t RETURNING 1'")
	if err != nil {
		t.Fatal(err)
	}
	before := sumV(t, dsn)
	if _, err := ExplainReadOnly(ctx, dsn, "SELECT sneaky()"); err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("SELECT sneaky(): err = %v, want a read-only transaction error", err)
	}
	if got := sumV(t, dsn); got != before {
		t.Errorf("rows changed: %d → %d", before, got)
	}
	// A statement as pg_stat_statements normalizes it gets a generic plan.
	p, err = ExplainReadOnly(ctx, dsn, "SELECT * FROM t WHERE id = $1 AND v < $2")
	if err != nil {
		t.Fatalf("normalized statement: %v", err)
	}
	if p.Analyzed || !strings.Contains(p.Note, "Generic plan") || !strings.Contains(p.Root.Label(), "on t") {
		t.Errorf("generic plan: analyzed=%v note=%q root=%q", p.Analyzed, p.Note, p.Root.Label())
	}
}

func TestSnapshotDiff(t *testing.T) {
	dsn, schema := testSchema(t)
	ctx := context.Background()
	conn, err := Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	before, err := TakeSnapshot(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	const calls = 40
	for i := 0; i < calls; i++ {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".t WHERE id > $1", i).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	after, err := TakeSnapshot(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	stats := Diff(before, after)
	var found *QueryStat
	for i, q := range stats {
		if strings.Contains(q.Query, schema+".t WHERE id >") {
			found = &stats[i]
		}
		if strings.Contains(q.Query, marker) {
			t.Errorf("surge's own query in the results: %q", q.Query)
		}
	}
	if found == nil {
		t.Fatalf("the test's statement is missing from the diff of %d statements", len(stats))
	}
	if found.Calls != calls || found.Rows != calls {
		t.Errorf("calls %d rows %d, want %d and %d", found.Calls, found.Rows, calls, calls)
	}
	if found.TotalMs <= 0 || !near(found.MeanMs, found.TotalMs/calls) || found.Share <= 0 || found.Share > 1 {
		t.Errorf("total %v mean %v share %v", found.TotalMs, found.MeanMs, found.Share)
	}
	if found.SharedHit == 0 {
		t.Error("no buffer hits recorded for a table scan")
	}
	// Nothing ran between two back-to-back snapshots of this statement.
	again, err := TakeSnapshot(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Diff(after, again) {
		if q.QueryID == found.QueryID {
			t.Errorf("statement reappears in an idle window: %+v", q)
		}
	}
}

func TestSnapshotWithoutExtension(t *testing.T) {
	base := testDSN(t)
	ctx := context.Background()
	admin, err := Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("surge_noext_%d", rand.IntN(1e9))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db+" TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	u, _ := url.Parse(base)
	u.Path = "/" + db
	_, err = SnapshotDSN(ctx, u.String())
	if !errors.Is(err, ErrNoExtension) {
		t.Fatalf("err = %v, want ErrNoExtension", err)
	}
	for _, step := range []string{"shared_preload_libraries", "restart", "CREATE EXTENSION pg_stat_statements"} {
		if !strings.Contains(err.Error(), step) {
			t.Errorf("message %q lacks the step %q", err, step)
		}
	}
}
