package js

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/metrics"
	sqlc "github.com/surgeload/surge/internal/protocol/sql"
)

// sqlPools are the script's PostgreSQL pools, one per DSN and size: every
// VU runs the init code that calls sql.open, and all of them share the
// pool the first one opened, as the Go API's OpenDB is shared.
type sqlPools struct {
	mu    sync.Mutex
	pools map[string]*sqlc.Pool
}

func (p *sqlPools) open(ctx context.Context, dsn string, maxConns int) (*sqlc.Pool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := fmt.Sprintf("%d\x00%s", maxConns, dsn)
	if pool, ok := p.pools[key]; ok {
		return pool, nil
	}
	pool, err := sqlc.Open(ctx, dsn, sqlc.Options{MaxConns: maxConns})
	if err != nil {
		return nil, err
	}
	if p.pools == nil {
		p.pools = map[string]*sqlc.Pool{}
	}
	p.pools[key] = pool
	return pool, nil
}

func (p *sqlPools) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, pool := range p.pools {
		pool.Close()
		delete(p.pools, k)
	}
}

// Close releases what the script holds beyond its VUs: the connections of
// its surge/sql pools. Call it after the run and teardown.
func (s *Script) Close() { s.sql.close() }

// sqlMetrics are surge/sql's metrics, as the Go API records them.
type sqlMetrics struct {
	duration, failed *metrics.Metric
}

// sqlModule is surge/sql: sql.open(dsn, {maxConns, queries}) in the init
// context returns a db whose query and exec run named queries.
func (v *VU) sqlModule() *sobek.Object {
	return v.lazy(map[string]any{
		"open": func(dsn string, opts sobek.Value) sobek.Value {
			if !v.inInit {
				v.throw("sql.open: call it in the init context, so that all VUs share one pool")
			}
			maxConns, queries := v.sqlOptions(opts)
			pool, err := v.s.sql.open(v.ctx, dsn, maxConns)
			if err != nil {
				v.throw("sql.open: %v", err)
			}
			names := make([]string, 0, len(queries))
			for name := range queries {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if err := pool.Define(name, queries[name]); err != nil {
					v.throw("sql.open: %v", err)
				}
			}
			return v.sqlDB(pool)
		},
	})
}

func (v *VU) sqlOptions(opts sobek.Value) (int, map[string]string) {
	o, ok := opts.(*sobek.Object)
	if !ok {
		v.throw("sql.open: the second argument must be {maxConns, queries: {name: SQL}}")
	}
	maxConns := 0
	var queries map[string]string
	for _, k := range o.Keys() {
		switch k {
		case "maxConns":
			maxConns = int(o.Get(k).ToInteger())
		case "queries":
			queries = v.stringMap(o.Get(k))
		default:
			v.throw("sql.open: unknown option %q (maxConns, queries)", k)
		}
	}
	if len(queries) == 0 {
		v.throw("sql.open: no queries given; name them: {queries: {by_id: 'SELECT … WHERE id = $1'}}")
	}
	return maxConns, queries
}

// sqlDB is the object sql.open returns.
func (v *VU) sqlDB(pool *sqlc.Pool) *sobek.Object {
	reg := v.st.Registry
	m := &sqlMetrics{
		duration: reg.MustNew("sql_query_duration", metrics.Trend, metrics.Time),
		failed:   reg.MustNew("sql_queries_failed", metrics.Rate, metrics.Default),
	}
	return v.object(map[string]any{
		"query": func(call sobek.FunctionCall) sobek.Value {
			name := v.sqlName("db.query", call)
			start := time.Now()
			rows, err := pool.Query(v.ctx, name, v.sqlArgs(call)...)
			v.recordSQL(m, name, time.Since(start), err)
			if err != nil {
				v.throw("db.query: %v", err)
			}
			out := make([]any, len(rows))
			for i, r := range rows {
				out[i] = v.sqlRow(r)
			}
			return v.rt.NewArray(out...)
		},
		"exec": func(call sobek.FunctionCall) sobek.Value {
			name := v.sqlName("db.exec", call)
			start := time.Now()
			n, err := pool.Exec(v.ctx, name, v.sqlArgs(call)...)
			v.recordSQL(m, name, time.Since(start), err)
			if err != nil {
				v.throw("db.exec: %v", err)
			}
			return v.rt.ToValue(n)
		},
	})
}

func (v *VU) sqlName(op string, call sobek.FunctionCall) string {
	if v.inInit {
		v.throw("%s: not supported in the init context; use setup()", op)
	}
	return call.Argument(0).String()
}

func (v *VU) sqlArgs(call sobek.FunctionCall) []any {
	if len(call.Arguments) < 2 {
		return nil
	}
	args := make([]any, len(call.Arguments)-1)
	for i, a := range call.Arguments[1:] {
		args[i] = a.Export()
	}
	return args
}

// sqlRow turns a row into a JS object. Values JavaScript has no type for
// (numeric, timestamps, UUIDs …) become what their JSON form is.
func (v *VU) sqlRow(r map[string]any) *sobek.Object {
	o := v.rt.NewObject()
	for col, x := range r {
		switch x := x.(type) {
		case nil, bool, string, int16, int32, int64, float32, float64:
			_ = o.Set(col, x)
		case []byte:
			_ = o.Set(col, string(x))
		case time.Time:
			_ = o.Set(col, x.Format(time.RFC3339Nano))
		default:
			var y any
			if b, err := json.Marshal(x); err == nil && json.Unmarshal(b, &y) == nil {
				_ = o.Set(col, y)
			} else {
				_ = o.Set(col, fmt.Sprint(x))
			}
		}
	}
	return o
}

// recordSQL records a call as the Go API does: sql_query_duration and
// sql_queries_failed tagged query:NAME; the first query of a late
// open-model iteration is measured from its due time.
func (v *VU) recordSQL(m *sqlMetrics, name string, d time.Duration, err error) {
	reg := v.st.Registry
	tags := reg.With(v.st.Tags, metrics.Tag{Key: "query", Value: name})
	if due, ok := v.st.TakeDue(); ok && time.Since(due) > d {
		d = time.Since(due)
	}
	v.st.Shard.Add(m.duration, tags, float64(d)/float64(time.Millisecond))
	f := 0.0
	if err != nil {
		f = 1
		reg.Errors.Add("sql", err.Error(), name)
	}
	v.st.Shard.Add(m.failed, tags, f)
}
