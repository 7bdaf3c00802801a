// Package sql is surge's PostgreSQL load client: a bounded pool of pgx
// connections that runs named queries and reports every call's duration and
// error to a callback, from which the engine records sql_query_duration and
// sql_queries_failed tagged by query name.
//
// Queries are named up front (Define) so that metrics carry a small, fixed
// set of tags, and so that each connection prepares a statement once and
// reuses it (pgx's statement cache), as a real application does.
//
// A call's duration runs from the moment it asks for a connection to the
// moment the last row has been read: waiting for a free connection is part
// of the latency a user of the database sees, as it is in pgbench.
//
// Note: pgxpool would do the pooling, but it needs another module
// (puddle); a channel of idle connections and a semaphore is all a load
// client needs, and it lets a broken connection be dropped and replaced on
// the next call.
package sql

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgeload/surge/internal/pgstat"
)

// Observer receives every call: the query's name, how long it took and its
// error (nil on success). It is called from the calling goroutine and must
// be safe for concurrent use.
type Observer func(name string, d time.Duration, err error)

// DefaultMaxConns is the pool size when Options.MaxConns is 0.
const DefaultMaxConns = 10

// Options configure a Pool.
type Options struct {
	// MaxConns bounds the open connections; calls beyond it wait.
	MaxConns int
	// Observe, if set, is told about every call.
	Observe Observer
}

// Errors of the pool itself.
var (
	ErrClosed       = errors.New("sql pool is closed")
	ErrUnknownQuery = errors.New("unknown query name")
)

// Pool is a bounded set of connections to one database, with named queries.
type Pool struct {
	cfg     *pgx.ConnConfig
	idle    chan *pgx.Conn
	slots   chan struct{} // one token per open connection
	observe Observer
	opened  atomic.Int64
	closed  atomic.Bool

	mu      sync.RWMutex
	queries map[string]string
}

// Open parses dsn and opens the first connection, so that a bad DSN or an
// unreachable server fails here, in one clear line, not in the first call.
func Open(ctx context.Context, dsn string, opt Options) (*Pool, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", pgstat.ErrBadDSN, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgstat.DefaultConnectTimeout
	}
	n := opt.MaxConns
	if n <= 0 {
		n = DefaultMaxConns
	}
	p := &Pool{cfg: cfg, idle: make(chan *pgx.Conn, n), slots: make(chan struct{}, n),
		observe: opt.Observe, queries: map[string]string{}}
	c, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	p.release(c)
	return p, nil
}

// Define names a query. Redefining a name with the same SQL is allowed;
// with different SQL it is an error, because metrics would mix two queries.
func (p *Pool) Define(name, sql string) error {
	if name == "" || sql == "" {
		return errors.New("a query needs a name and SQL")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.queries[name]; ok && old != sql {
		return fmt.Errorf("query %q is already defined with different SQL", name)
	}
	p.queries[name] = sql
	return nil
}

func (p *Pool) lookup(name string) (string, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	sql, ok := p.queries[name]
	if !ok {
		return "", fmt.Errorf("%w %q (Define it first)", ErrUnknownQuery, name)
	}
	return sql, nil
}

// Exec runs the named query, reads and discards its rows, and returns how
// many rows it returned or changed.
func (p *Pool) Exec(ctx context.Context, name string, args ...any) (int64, error) {
	var n int64
	err := p.call(ctx, name, func(c *pgx.Conn, sql string) error {
		tag, err := c.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// Query runs the named query and returns its rows as column → value maps.
func (p *Pool) Query(ctx context.Context, name string, args ...any) ([]map[string]any, error) {
	var out []map[string]any
	err := p.call(ctx, name, func(c *pgx.Conn, sql string) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToMap)
		return err
	})
	return out, err
}

// call times one query, from asking for a connection to the last row.
func (p *Pool) call(ctx context.Context, name string, run func(*pgx.Conn, string) error) error {
	sql, err := p.lookup(name)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := p.acquire(ctx)
	if err == nil {
		err = run(c, sql)
		p.release(c)
	}
	if p.observe != nil {
		p.observe(name, time.Since(start), err)
	}
	if err != nil {
		return fmt.Errorf("query %q: %w", name, pgstat.Friendly(err, sql, 0))
	}
	return nil
}

func (p *Pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	select {
	case c := <-p.idle:
		return c, nil
	case p.slots <- struct{}{}:
		c, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
		if err != nil {
			<-p.slots
			return nil, err
		}
		p.opened.Add(1)
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial opens a connection in a slot, for Open.
func (p *Pool) dial(ctx context.Context) (*pgx.Conn, error) {
	p.slots <- struct{}{}
	c, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		<-p.slots
		return nil, pgstat.Friendly(err, "", 0)
	}
	p.opened.Add(1)
	return c, nil
}

// release returns a healthy connection to the idle set; a broken one (the
// server went away, or a call was canceled mid-query) is closed and its
// slot freed for a fresh connection.
func (p *Pool) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().IsBusy() || c.PgConn().TxStatus() != 'I' || p.closed.Load() {
		c.Close(context.Background())
		<-p.slots
		return
	}
	p.idle <- c
	if p.closed.Load() { // Close ran while we were returning it
		p.drain()
	}
}

// Opened is the number of connections opened so far (replacements of
// broken connections included).
func (p *Pool) Opened() int64 { return p.opened.Load() }

// Close closes the idle connections; connections in use are closed when
// their call ends. Calls after Close fail with ErrClosed.
func (p *Pool) Close() {
	p.closed.Store(true)
	p.drain()
}

func (p *Pool) drain() {
	for {
		select {
		case c := <-p.idle:
			c.Close(context.Background())
			<-p.slots
		default:
			return
		}
	}
}
