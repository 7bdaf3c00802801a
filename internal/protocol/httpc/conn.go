package httpc

import (
	"bufio"
	"context"
	"net"
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

	watched  context.Context
	stop     func() bool
	canceled atomic.Bool
}

func newConn(raw *countConn, nc net.Conn) *conn {
	return &conn{raw: raw, nc: nc, br: bufio.NewReaderSize(nc, connBufferSize)}
}

// longAgo is a deadline in the past: setting it aborts blocked I/O.
var longAgo = time.Unix(1, 0)

// watch makes cancellation of ctx abort the connection's I/O. The
// registration is kept across requests made with the same context, so a VU
// that passes its long-lived context pays for it once per connection. It
// reports false when an earlier context already poisoned the connection.
func (cn *conn) watch(ctx context.Context) bool {
	if cn.canceled.Load() {
		return false
	}
	if cn.watched == ctx {
		return true
	}
	if cn.stop != nil && !cn.stop() {
		return false
	}
	cn.watched, cn.stop = nil, nil
	if ctx.Done() == nil {
		return true
	}
	cn.watched = ctx
	cn.stop = context.AfterFunc(ctx, cn.cancel)
	return true
}

func (cn *conn) cancel() {
	cn.canceled.Store(true)
	_ = cn.nc.SetDeadline(longAgo)
}

func (cn *conn) close() {
	if cn.stop != nil {
		cn.stop()
		cn.stop, cn.watched = nil, nil
	}
	_ = cn.nc.Close()
}
