package httpc

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// countConn counts the bytes that cross the socket, below TLS.
type countConn struct {
	net.Conn
	nr, nw int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.nr += int64(n)
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.nw += int64(n)
	return n, err
}

// conn is one HTTP/1.1 connection. It is used by one request at a time;
// between requests it waits in its Client's idle pool.
type conn struct {
	raw    *countConn
	nc     net.Conn // raw, or a *tls.Conn over it
	br     *bufio.Reader
	wbuf   []byte // the serialized request, reused
	reused bool   // it has served a request before

	mu       sync.Mutex // guards the fields below against the cancel callback
	watched  context.Context
	stop     func() bool
	gen      uint64      // registration generation
	busy     bool        // serving a request
	canceled atomic.Bool // a context canceled during a request: I/O is dead
}

func newConn(raw *countConn, nc net.Conn) *conn {
	return &conn{raw: raw, nc: nc, br: bufio.NewReaderSize(nc, connBufferSize)}
}

// longAgo is a deadline in the past: setting it aborts blocked I/O.
var longAgo = time.Unix(1, 0)

// watch makes cancellation of ctx abort the connection's I/O while it
// serves a request. The registration is kept across requests made with the
// same context, so a VU that passes its long-lived context pays for it once
// per connection; a context canceled while the connection is idle, or
// after another context replaced it, leaves the connection alone. It
// reports false when a cancellation poisoned the connection.
func (cn *conn) watch(ctx context.Context) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.busy = true
	if cn.watched != ctx {
		if cn.stop != nil {
			cn.stop()
		}
		cn.gen++
		cn.watched, cn.stop = nil, nil
		if ctx.Done() != nil {
			gen := cn.gen
			cn.watched = ctx
			cn.stop = context.AfterFunc(ctx, func() { cn.cancel(gen) })
		}
	}
	return !cn.canceled.Load()
}

// idle marks the end of a request on cn.
func (cn *conn) idle() {
	cn.mu.Lock()
	cn.busy = false
	cn.mu.Unlock()
}

// cancel runs when the context of registration gen is canceled.
func (cn *conn) cancel(gen uint64) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.busy && cn.gen == gen {
		cn.canceled.Store(true)
		_ = cn.nc.SetDeadline(longAgo)
	}
}

func (cn *conn) close() {
	cn.mu.Lock()
	if cn.stop != nil {
		cn.stop()
		cn.stop, cn.watched = nil, nil
	}
	cn.mu.Unlock()
	_ = cn.nc.Close()
}
