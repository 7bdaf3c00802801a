package surge

import (
	"context"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	sqlc "github.com/surgeload/surge/internal/protocol/sql"
)

// DB is a PostgreSQL pool with named queries, shared by all VUs. Queries
// run from a VU record sql_query_duration (a time trend) and
// sql_queries_failed (a rate), tagged by query name. With an arrival-rate
// executor this is pgbench -R with honest latency: the first query of an
// iteration that started late is measured from the iteration's due time.
type DB struct{ pool *sqlc.Pool }

// OpenDB connects to dsn with at most maxConns connections and defines the
// named queries (name → SQL with $1 … parameters).
func OpenDB(ctx context.Context, dsn string, maxConns int, queries map[string]string) (*DB, error) {
	p, err := sqlc.Open(ctx, dsn, sqlc.Options{MaxConns: maxConns})
	if err != nil {
		return nil, err
	}
	for name, q := range queries {
		if err := p.Define(name, q); err != nil {
			p.Close()
			return nil, err
		}
	}
	return &DB{pool: p}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Query runs the named query and returns its rows.
func (v *VU) Query(db *DB, name string, args ...any) ([]map[string]any, error) {
	start := time.Now()
	rows, err := db.pool.Query(v.context(), name, args...)
	v.recordSQL(name, time.Since(start), err)
	return rows, err
}

// Exec runs the named statement and returns the rows it affected.
func (v *VU) Exec(db *DB, name string, args ...any) (int64, error) {
	start := time.Now()
	n, err := db.pool.Exec(v.context(), name, args...)
	v.recordSQL(name, time.Since(start), err)
	return n, err
}

func (v *VU) context() context.Context {
	if v.ctx == nil {
		return context.Background()
	}
	return v.ctx
}

func (v *VU) recordSQL(name string, d time.Duration, err error) {
	reg := v.st.Registry
	dur := reg.MustNew("sql_query_duration", metrics.Trend, metrics.Time)
	failed := reg.MustNew("sql_queries_failed", metrics.Rate, metrics.Default)
	tags := reg.With(v.st.Tags, metrics.Tag{Key: "query", Value: name})
	if due, ok := v.st.TakeDue(); ok && time.Since(due) > d {
		d = time.Since(due) // open model: from the iteration's due time
	}
	v.st.Shard.Add(dur, tags, float64(d)/float64(time.Millisecond))
	f := 0.0
	if err != nil {
		f = 1
		reg.Errors.Add("sql", err.Error(), name)
	}
	v.st.Shard.Add(failed, tags, f)
}
