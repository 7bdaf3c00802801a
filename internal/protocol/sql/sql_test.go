package sql

import (
	"context"
	"errors"
	"fmt"
	"github.com/surgeload/surge/internal/testenv"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/pgstat"
)

func testDSN(t *testing.T) string { return testenv.PostgresDSN(t) }

// recorder collects observed calls.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	fails map[string]int
	min   time.Duration
}

func (r *recorder) observe(name string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls, r.fails, r.min = map[string]int{}, map[string]int{}, d
	}
	r.calls[name]++
	if err != nil {
		r.fails[name]++
	}
	r.min = min(r.min, d)
}

// testPool opens a pool on a fresh schema with a table t of 100 rows.
func testPool(t *testing.T, maxConns int, r *recorder) (*Pool, string) {
	t.Helper()
	base := testDSN(t)
	schema := fmt.Sprintf("surge_sql_%d", rand.IntN(1e9))
	admin, err := pgstat.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	for _, q := range []string{"CREATE SCHEMA " + schema,
		"CREATE TABLE " + schema + ".t (id int PRIMARY KEY, v int)",
		"INSERT INTO " + schema + ".t SELECT g, g FROM generate_series(1, 100) g"} {
		if _, err := admin.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c, err := pgstat.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	p, err := Open(context.Background(), u.String(), Options{MaxConns: maxConns, Observe: r.observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, schema
}

func TestQueryAndExec(t *testing.T) {
	var r recorder
	p, _ := testPool(t, 2, &r)
	ctx := context.Background()
	must(t, p.Define("by_id", "SELECT id, v FROM t WHERE id = $1"))
	must(t, p.Define("bump", "UPDATE t SET v = v + 1 WHERE id <= $1"))
	must(t, p.Define("boom", "SELECT 1 / (v - v) FROM t WHERE id = $1"))

	rows, err := p.Query(ctx, "by_id", 7)
	if err != nil || len(rows) != 1 || rows[0]["v"] != int32(7) {
		t.Fatalf("by_id: %v %v", rows, err)
	}
	n, err := p.Exec(ctx, "bump", 10)
	if err != nil || n != 10 {
		t.Fatalf("bump: %d %v", n, err)
	}
	_, err = p.Exec(ctx, "boom", 1)
	if err == nil || !strings.Contains(err.Error(), `query "boom": division by zero`) {
		t.Errorf("boom: %v", err)
	}
	// The failed call left the connection usable.
	if rows, err := p.Query(ctx, "by_id", 10); err != nil || rows[0]["v"] != int32(11) {
		t.Errorf("after a failure: %v %v", rows, err)
	}
	if _, err := p.Exec(ctx, "nope"); !errors.Is(err, ErrUnknownQuery) {
		t.Errorf("undefined name: %v", err)
	}
	want := map[string]int{"by_id": 2, "bump": 1, "boom": 1}
	for name, n := range want {
		if r.calls[name] != n {
			t.Errorf("observed %d calls of %s, want %d", r.calls[name], name, n)
		}
	}
	if r.fails["boom"] != 1 || r.fails["by_id"] != 0 || r.calls["nope"] != 0 || r.min <= 0 {
		t.Errorf("fails %v, calls %v, min %v", r.fails, r.calls, r.min)
	}
	if err := p.Define("by_id", "SELECT 2"); err == nil {
		t.Error("redefining a name with other SQL was accepted")
	}
}

// TestPoolBound runs 120 calls from 12 goroutines through 3 connections.
func TestPoolBound(t *testing.T) {
	var r recorder
	p, schema := testPool(t, 3, &r)
	must(t, p.Define("sleepy", "SELECT pg_sleep(0.002), count(*) FROM t"))
	must(t, p.Define("active", "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	maxActive := int64(0)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := p.Exec(context.Background(), "sleepy"); err != nil {
					t.Error(err)
					return
				}
				rows, err := p.Query(context.Background(), "active", schema)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				maxActive = max(maxActive, rows[0]["count"].(int64))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if r.calls["sleepy"] != 120 || r.fails["sleepy"] != 0 {
		t.Errorf("observed %d calls, %d failed; want 120, 0", r.calls["sleepy"], r.fails["sleepy"])
	}
	if p.Opened() > 3 || maxActive > 3 {
		t.Errorf("opened %d connections, server saw %d; the bound is 3", p.Opened(), maxActive)
	}
}

func TestBrokenConnectionReplaced(t *testing.T) {
	var r recorder
	p, schema := testPool(t, 1, &r)
	must(t, p.Define("pid", "SELECT pg_backend_pid() AS pid"))
	rows, err := p.Query(context.Background(), "pid")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgstat.Connect(context.Background(), testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend($1)", rows[0]["pid"]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Query(context.Background(), "pid"); err == nil {
		t.Fatal("a call on a terminated connection succeeded")
	}
	if _, err := p.Query(context.Background(), "pid"); err != nil {
		t.Fatalf("the pool did not replace the broken connection: %v", err)
	}
	if p.Opened() != 2 || r.fails["pid"] != 1 {
		t.Errorf("opened %d, failed %d; want 2 and 1 (%s)", p.Opened(), r.fails["pid"], schema)
	}
	p.Close()
	if _, err := p.Query(context.Background(), "pid"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"postgres://u@h:badport/db", "invalid DSN"},
		{"postgres://postgres@127.0.0.1:1/postgres?sslmode=disable", "connection refused"},
	}
	for _, c := range cases {
		_, err := Open(context.Background(), c.dsn, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Open(%q) = %v, want one line with %q", c.dsn, err, c.want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPoolExec measures a primary-key lookup through the pool from
// parallel goroutines: the client's overhead on top of the server's.
func BenchmarkPoolExec(b *testing.B) {
	dsn := os.Getenv("SURGE_TEST_PG_DSN")
	if dsn == "" {
		b.Skip("SURGE_TEST_PG_DSN is not set")
	}
	p, err := Open(context.Background(), dsn, Options{MaxConns: 4, Observe: func(string, time.Duration, error) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := p.Define("one", "SELECT $1::int + 1"); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Exec(context.Background(), "one", 41); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
