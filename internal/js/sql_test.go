package js

import (
	"context"
	"fmt"
	"github.com/surgeload/surge/internal/testenv"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// pgDSN is the PostgreSQL of the tests (test.sh starts one); the test is
// skipped without it, and fails in CI.
func pgDSN(t *testing.T) string { return testenv.PostgresDSN(t) }

const sqlScript = `import sql from "surge/sql";
export const options = { vus: 3, iterations: 12 };
const T = __ENV.TABLE;
const db = sql.open(__ENV.DSN, { maxConns: 2, queries: {
  create: "CREATE TABLE " + T + " (id int PRIMARY KEY, name text, price numeric, at timestamptz DEFAULT now())",
  drop: "DROP TABLE " + T,
  put: "INSERT INTO " + T + " (id, name, price) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = $2",
  by_id: "SELECT id, name, price, at FROM " + T + " WHERE id = $1",
  bad: "SELECT nope FROM " + T,
}});
export function setup() {
  db.exec("create");
  if (db.exec("put", 1, "one", 9.5) !== 1) throw new Error("put: not one row");
}
export function teardown() { db.exec("drop"); }
export default function () {
  const rows = db.query("by_id", 1);
  const r = rows[0];
  if (rows.length !== 1 || r.id !== 1 || r.name !== "one" || String(r.price) !== "9.5" || !r.at.startsWith("20"))
    throw new Error("by_id: " + JSON.stringify(rows));
  db.exec("put", 100 + __ITER * 10 + __VU, "x", 1);
  if (__ENV.BAD && __ITER === 0) db.query(__ENV.BAD);
}`

// runSQL runs sqlScript with env and returns the result and the script.
func runSQL(t *testing.T, env map[string]string) (*engine.Result, *metrics.Registry, *Script) {
	t.Helper()
	reg := metrics.NewRegistry()
	s, err := load(t, "test.js", sqlScript, Config{Registry: reg, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	scens, err := s.Scenarios(nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(ctx, engine.Options{Registry: reg, Scenarios: scens})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	return res, reg, s
}

func TestSQLModule(t *testing.T) {
	dsn := pgDSN(t)
	table := fmt.Sprintf("surge_js_items_%d", time.Now().UnixNano())
	res, reg, s := runSQL(t, map[string]string{"DSN": dsn, "TABLE": table})
	if res.Exceptions != 0 || res.Iterations != 12 {
		t.Fatalf("iterations %d, exceptions %d: %v", res.Iterations, res.Exceptions, exceptions(reg))
	}
	dur := reg.Get("sql_query_duration")
	if dur == nil || dur.Contains != metrics.Time {
		t.Fatalf("sql_query_duration %+v, want a time trend", dur)
	}
	for q, want := range map[string]int64{"by_id": 12, "put": 13, "create": 1} {
		if n := reg.Total(dur, metrics.Tag{Key: "query", Value: q}).Count; n != want {
			t.Errorf("sql_query_duration{query:%s} count %d, want %d", q, n, want)
		}
	}
	if f := reg.Total(reg.Get("sql_queries_failed")); f.Count != 26 || f.Nonzero != 0 {
		t.Errorf("sql_queries_failed %d of %d, want 0 of 26 (setup's and the VUs' calls)", f.Nonzero, f.Count)
	}
	if n := len(s.sql.pools); n != 1 {
		t.Errorf("%d pools, want one shared by the controller and 3 VUs", n)
	}
	for _, p := range s.sql.pools {
		if p.Opened() > 2 {
			t.Errorf("%d connections opened, want at most maxConns 2", p.Opened())
		}
	}
}

func TestSQLModuleErrors(t *testing.T) {
	dsn := pgDSN(t)
	table := fmt.Sprintf("surge_js_bad_%d", time.Now().UnixNano())
	cases := []struct{ bad, want string }{
		{"bad", `db.query: query "bad": `},
		{"nope", `db.query: unknown query name "nope"`},
	}
	for _, c := range cases {
		t.Run(c.bad, func(t *testing.T) {
			res, reg, _ := runSQL(t, map[string]string{"DSN": dsn, "TABLE": table + c.bad, "BAD": c.bad})
			var hit string
			for _, e := range exceptions(reg) {
				if strings.HasPrefix(e, "exception: ") && strings.Contains(e, c.want) {
					hit = e
				}
			}
			if res.Exceptions != 3 || hit == "" {
				t.Fatalf("exceptions %d %q, want 3 (one per VU) with %q", res.Exceptions, exceptions(reg), c.want)
			}
			if c.bad == "bad" && !strings.Contains(hit, "nope") {
				t.Errorf("exception %q does not name the column", hit)
			}
		})
	}
	t.Run("open", func(t *testing.T) {
		for _, c := range []struct{ src, want string }{
			{`sql.open("postgres://127.0.0.1:1/x?connect_timeout=2", { queries: { a: "SELECT 1" } });`, "init: GoError: sql.open:"},
			{`sql.open("not a dsn ://", { queries: { a: "SELECT 1" } });`, "sql.open:"},
			{`sql.open(__ENV.DSN, { queries: {} });`, "sql.open: no queries given"},
			{`sql.open(__ENV.DSN, { maxConn: 2, queries: { a: "SELECT 1" } });`, `sql.open: unknown option "maxConn"`},
		} {
			_, err := load(t, "test.js", "import sql from 'surge/sql';\n"+c.src+"\nexport default function () {}\n", Config{Env: map[string]string{"DSN": dsn}})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %v, want one line with %q", c.src, err, c.want)
			}
		}
	})
}
