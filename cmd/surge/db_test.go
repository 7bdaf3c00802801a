package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/surgeload/surge/internal/testenv"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbTestDSN is the PostgreSQL that test.sh starts; skipped without it,
// except in CI.
func dbTestDSN(t *testing.T) string { return testenv.PostgresDSN(t) }

// dbTestSchema creates a schema with a table t (1,000 rows) and a role
// that may not read it; it returns a DSN whose search_path is the schema.
func dbTestSchema(t *testing.T) (dsn, schema, role string) {
	t.Helper()
	base := dbTestDSN(t)
	schema = fmt.Sprintf("surge_cli_%d", rand.IntN(1e9))
	role = schema + "_nobody"
	conn := dbTestConn(t, base)
	for _, q := range []string{
		"CREATE SCHEMA " + schema,
		"CREATE TABLE " + schema + ".t (id int PRIMARY KEY, v int NOT NULL)",
		"INSERT INTO " + schema + ".t SELECT g, g % 10 FROM generate_series(1, 1000) g",
		"ANALYZE " + schema + ".t",
		"CREATE ROLE " + role + " LOGIN",
		"GRANT USAGE ON SCHEMA " + schema + " TO " + role,
	} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		c.Exec(context.Background(), "DROP ROLE "+role)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, role
}

func dbTestConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func dbRunSurge(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), &out, &errb, args)
	return code, out.String(), errb.String()
}

func TestDBExplainText(t *testing.T) {
	dsn, _, _ := dbTestSchema(t)
	code, out, errs := dbRunSurge("db", "explain", "--dsn", dsn, "SELECT v, count(*) FROM t WHERE id > 10 GROUP BY v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Execution ", "self ms", "Seq Scan on t", "Filter: (id > 10)", "HashAggregate"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colors written to a buffer, not a terminal")
	}
}

// TestDBExplainWriteUnchanged is the acceptance check: a write statement's
// rows are unchanged after surge db explain, and changed with --commit.
func TestDBExplainWriteUnchanged(t *testing.T) {
	dsn, _, _ := dbTestSchema(t)
	conn := dbTestConn(t, dsn)
	sum := func() (s int) {
		if err := conn.QueryRow(context.Background(), "SELECT sum(v) FROM t").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := sum()
	sqlFile := filepath.Join(t.TempDir(), "delete.sql")
	os.WriteFile(sqlFile, []byte("-- clean up\nDELETE FROM t WHERE v = 3;\n"), 0o644)
	for _, args := range [][]string{
		{"UPDATE t SET v = v + 100"},
		{"-f", sqlFile},
		{"--timeout", "5s", "INSERT INTO t VALUES (5000, 7)"},
	} {
		code, out, errs := dbRunSurge(append([]string{"db", "explain", "--dsn", dsn}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if !strings.Contains(out, "rolled back") {
			t.Errorf("%v: output does not say the transaction was rolled back:\n%s", args, out)
		}
		if got := sum(); got != before {
			t.Fatalf("%v changed the rows: sum(v) %d → %d", args, before, got)
		}
	}
	if code, _, errs := dbRunSurge("db", "explain", "--dsn", dsn, "--commit", "UPDATE t SET v = v + 1"); code != 0 {
		t.Fatalf("--commit: exit %d: %s", code, errs)
	}
	if got := sum(); got != before+1000 {
		t.Errorf("--commit: sum(v) = %d, want %d", got, before+1000)
	}
}

func TestDBExplainFormats(t *testing.T) {
	dsn, _, _ := dbTestSchema(t)
	code, out, errs := dbRunSurge("db", "explain", "--dsn", dsn, "--format", "json", "SELECT * FROM t WHERE v = 3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Analyzed bool `json:"analyzed"`
		Plan     struct {
			Node       string  `json:"node"`
			ActualRows float64 `json:"actual_rows"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !doc.Analyzed || doc.Plan.Node != "Seq Scan on t" || doc.Plan.ActualRows != 100 {
		t.Errorf("json plan = %+v", doc)
	}
	code, out, _ = dbRunSurge("db", "explain", "--dsn", dsn, "--format", "html", "--no-analyze", "SELECT * FROM t")
	if code != 0 || !strings.HasPrefix(out, "<style>") || !strings.Contains(out, `<section class="surge-pg surge-pg-plan">`) ||
		strings.Contains(out, "<script") {
		t.Errorf("html fragment (exit %d):\n%s", code, out)
	}
}

func TestDBExplainPlanFile(t *testing.T) {
	code, out, errs := dbRunSurge("db", "explain", "--plan", filepath.Join("..", "..", "internal", "pgstat", "testdata", "cte.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"[CTE big] HashAggregate", "CTE Scan on big b", "spills to disk"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDBExplainPlanStdin(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "internal", "pgstat", "testdata", "initplan.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, errs := dbRunSurge("db", "explain", "--plan", "-", "--format", "json")
	if code != 0 || !strings.Contains(out, `"subplan": "InitPlan 1 (returns $0)"`) {
		t.Errorf("exit %d (%s):\n%s", code, errs, out)
	}
}

// TestDBErrors: every bad input is one clear line on stderr and an exit
// code that tells a user error (2) from a failure (1).
func TestDBErrors(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	dsn, _, role := dbTestSchema(t)
	u, _ := url.Parse(dsn)
	u.User = url.User(role)
	noPriv := u.String()
	noExt := dbNoExtensionDB(t)
	notJSON := filepath.Join(t.TempDir(), "plan.txt")
	os.WriteFile(notJSON, []byte("Seq Scan on t  (cost=0.00..15.00 rows=1000 width=8)\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad DSN", []string{"explain", "--dsn", "postgres://u@localhost:99999x/db", "SELECT 1"}, 2, "--dsn: invalid DSN"},
		{"refused", []string{"explain", "--dsn", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable", "SELECT 1"}, 1,
			"connecting to PostgreSQL at 127.0.0.1:1: connection refused"},
		{"syntax error", []string{"explain", "--dsn", dsn, "SELECT * FROM t WHER id = 1"}, 1,
			`syntax error at or near "id" at line 1, column 22: "id = 1"`},
		{"permission denied", []string{"explain", "--dsn", noPriv, "SELECT * FROM t"}, 1, "permission denied for table t"},
		{"statement timeout", []string{"explain", "--dsn", dsn, "--timeout", "100ms", "SELECT pg_sleep(10)"}, 1,
			"canceled (raise --timeout)"},
		{"missing extension", []string{"top", "--dsn", noExt}, 1,
			"shared_preload_libraries = 'pg_stat_statements'), restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements"},
		{"no DSN", []string{"top", "--dsn", ""}, 2, "--dsn is required"},
		{"no SQL", []string{"explain", "--dsn", dsn}, 2, "give exactly one of"},
		{"two sources", []string{"explain", "--dsn", dsn, "--plan", notJSON, "SELECT 1"}, 2, "give exactly one of"},
		{"plan not JSON", []string{"explain", "--plan", notJSON}, 2, "not an EXPLAIN (FORMAT JSON) plan"},
		{"missing file", []string{"explain", "-f", "/nonexistent.sql"}, 2, "reading SQL"},
		{"bad format", []string{"explain", "--format", "xml", "SELECT 1"}, 2, `--format "xml"`},
		{"bad ordering", []string{"top", "--dsn", dsn, "--by", "speed"}, 2, `--by "speed": use one of total, mean, calls, rows, io`},
		{"duration without watch", []string{"top", "--dsn", dsn, "--duration", "5s"}, 2, "--duration bounds --watch"},
		{"unknown subcommand", []string{"plan"}, 2, `unknown subcommand "plan"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := dbRunSurge(append([]string{"db"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d (%s)", code, c.code, errs)
			}
			if !strings.HasPrefix(errs, "surge db: ") || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q, want one line containing %q", errs, c.want)
			}
		})
	}
}

// dbNoExtensionDB creates a database without pg_stat_statements.
func dbNoExtensionDB(t *testing.T) string {
	t.Helper()
	base := dbTestDSN(t)
	admin := dbTestConn(t, base)
	db := fmt.Sprintf("surge_cli_noext_%d", rand.IntN(1e9))
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+db+" TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + db
	return u.String()
}

func TestDBTopCumulative(t *testing.T) {
	dsn, schema, _ := dbTestSchema(t)
	conn := dbTestConn(t, dsn)
	for i := 0; i < 5; i++ {
		conn.Exec(context.Background(), "SELECT count(*) FROM "+schema+".t WHERE v = $1", i)
	}
	t.Setenv("DATABASE_URL", dsn) // no --dsn: the environment's
	code, out, errs := dbRunSurge("db", "top", "--by", "calls", "--limit", "0", "--width", "200")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "since the statistics were last reset; top by calls") ||
		!strings.Contains(out, schema+".t WHERE v = $1") {
		t.Errorf("output:\n%s", out)
	}
}

// TestDBTopWatch runs --watch for three windows while a client keeps
// querying, and checks that the windows together saw the client's calls and
// no more.
func TestDBTopWatch(t *testing.T) {
	dsn, schema, _ := dbTestSchema(t)
	conn := dbTestConn(t, dsn)
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Main(context.Background(), &out, &errb, []string{"db", "top", "--dsn", dsn, "--watch",
			"--window", "400ms", "--duration", "1200ms", "--format", "json", "--by", "calls", "--limit", "0"})
	}()
	var sent atomic.Int64
	query := "SELECT max(v) FROM " + schema + ".t WHERE id < $1"
loop:
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			break loop
		default:
		}
		if _, err := conn.Exec(context.Background(), query, 500); err != nil {
			t.Fatal(err)
		}
		sent.Add(1)
		time.Sleep(5 * time.Millisecond)
	}
	dec := json.NewDecoder(&out)
	windows, seen := 0, int64(0)
	for {
		var doc struct {
			WindowSeconds float64 `json:"window_seconds"`
			Statements    []struct {
				Query string `json:"query"`
				Calls int64  `json:"calls"`
			} `json:"statements"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding window %d: %v", windows+1, err)
		}
		windows++
		if doc.WindowSeconds < 0.3 || doc.WindowSeconds > 5 {
			t.Errorf("window %d lasted %.2fs, want about 0.4s", windows, doc.WindowSeconds)
		}
		for _, s := range doc.Statements {
			if strings.Contains(s.Query, schema+".t WHERE id < $1") {
				seen += s.Calls
			}
		}
	}
	if windows != 3 {
		t.Errorf("%d windows, want 3 (1.2s of 0.4s windows)", windows)
	}
	if seen == 0 || seen > sent.Load() {
		t.Errorf("windows saw %d calls of the client's statement, client sent %d", seen, sent.Load())
	}
}

// TestDBExamples runs the statements of examples/db, in a schema of the
// test's own, and checks that each shows the finding its comment promises.
func TestDBExamples(t *testing.T) {
	base := dbTestDSN(t)
	schema := fmt.Sprintf("surge_example_%d", rand.IntN(1e9))
	local := func(sql string) string { return strings.ReplaceAll(sql, "shop", schema) }
	dir := filepath.Join("..", "..", "examples", "db")
	setup, err := os.ReadFile(filepath.Join(dir, "setup.sql"))
	if err != nil {
		t.Fatal(err)
	}
	admin := dbTestConn(t, base)
	for _, stmt := range strings.Split(local(string(setup)), ";\n") {
		if _, err := admin.Exec(context.Background(), stmt, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("setup.sql: %v", err)
		}
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	cases := map[string][]string{
		"misestimate.sql": {"under-estimated ×20,000", "VACUUM the table"},
		"spill.sql":       {"spills to disk (external merge"},
		"filter.sql":      {"an index on the filtered columns may help"},
	}
	for file, wants := range cases {
		sql, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), file)
		os.WriteFile(path, []byte(local(string(sql))), 0o644)
		code, out, errs := dbRunSurge("db", "explain", "--dsn", base, "-f", path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, errs)
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", file, w, out)
			}
		}
	}
	code, out, _ := dbRunSurge("db", "explain", "--plan", filepath.Join(dir, "cte-plan.json"))
	if code != 0 || !strings.Contains(out, "CTE Scan on big b") {
		t.Errorf("cte-plan.json: exit %d\n%s", code, out)
	}
}
