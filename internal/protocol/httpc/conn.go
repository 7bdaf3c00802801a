package httpc

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// countConn counts the bytes that cross the socket, below TLS.
type countConn struct {
	net.Conn
	nr, nw int64

	// A TCP socket is read with a raw system call inside RawConn.Read:
	// the socket is non-blocking, so the call cannot hold the thread, and
	// skipping the runtime's entersyscall/exitsyscall keeps the P (and
	// sysmon, which would otherwise hand it to another thread during a
	// slow loopback call) out of it. See rawRead.
	rc     syscall.RawConn
	readFn func(fd uintptr) bool // c.rawRead, made once
	rp     []byte                // rawRead's buffer
	rn     int
	rerr   syscall.Errno
}

func newCountConn(nc net.Conn) *countConn {
	c := &countConn{Conn: nc}
	if tc, ok := nc.(*net.TCPConn); ok {
		c.rc, _ = tc.SyscallConn()
		c.readFn = c.rawRead
	}
	return c
}

func (c *countConn) Read(p []byte) (int, error) {
	if c.rc == nil || len(p) == 0 {
		n, err := c.Conn.Read(p)
		c.nr += int64(n)
		return n, err
	}
	c.rp, c.rn, c.rerr = p, 0, 0
	err := c.rc.Read(c.readFn)
	n, errno := c.rn, c.rerr
	c.rp = nil
	c.nr += int64(n)
	switch {
	case err != nil:
		// the wait failed (deadline, closed socket): the ordinary read
		// meets the same condition and reports it as net.Conn does
		n, err := c.Conn.Read(p)
		c.nr += int64(n)
		return n, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("read", errno)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// rawRead is Read's RawConn.Read callback: one read(2), waiting for the
// poller while the socket has nothing (EAGAIN).
func (c *countConn) rawRead(fd uintptr) bool {
	for {
		n, errno := rawSyscall(syscall.SYS_READ, fd, c.rp)
		switch errno {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		case 0:
			c.rn = n
		default:
			c.rerr = errno
		}
		return true
	}
}

// rawSyscall is read(2) or write(2) of b on the non-blocking fd, without
// telling the scheduler: it returns at once.
func rawSyscall(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(r), 0
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.nw += int64(n)
	return n, err
}

// conn is one HTTP/1.1 connection. It is used by one request at a time;
// between requests it waits in its Client's idle pool.
type conn struct {
	raw     *countConn
	nc      net.Conn        // raw, or a *tls.Conn over it
	rc      syscall.RawConn // the socket of a plain TCP connection, for sendAwait
	dl      time.Time       // the deadline set on nc, or zero
	aw      awaitState
	awaitFn func(fd uintptr) bool // cn.await
	br      *bufio.Reader
	wbuf    []byte // the serialized request, reused
	reused  bool   // it has served a request before

	mu       sync.Mutex // guards the fields below against the cancel callback
	watched  context.Context
	stop     func() bool
	gen      uint64      // registration generation
	busy     bool        // serving a request
	canceled atomic.Bool // a context canceled during a request: I/O is dead
}

func newConn(raw *countConn, nc net.Conn) *conn {
	cn := &conn{raw: raw, nc: nc, br: bufio.NewReaderSize(nc, connBufferSize)}
	if tc, ok := raw.Conn.(*net.TCPConn); ok && nc == net.Conn(raw) {
		cn.rc, _ = tc.SyscallConn()
		cn.awaitFn = cn.await
	}
	return cn
}

// sendAwait writes b to a plain TCP socket and waits until the response
// can be read, with one write and no read: the usual Write-then-Read costs
// a read that finds nothing (EAGAIN) before the goroutine parks, one
// system call per request more than wrk makes. The write happens inside
// RawConn.Read's callback, after the poller's read readiness was reset,
// so the response's arrival cannot be missed. It returns how much of b
// was written (the caller writes the rest, and reports any error, the
// ordinary way) and when the write ended. Errors of the wait are left for
// the read that follows: it meets the same deadline or closed socket and
// reports it as every other read does.
func (cn *conn) sendAwait(b []byte) (sent int, tw time.Time) {
	cn.aw = awaitState{b: b, first: true}
	_ = cn.rc.Read(cn.awaitFn)
	sent, tw = cn.aw.sent, cn.aw.tw
	cn.aw = awaitState{}
	return sent, tw
}

// awaitState is one sendAwait's, kept in the conn so that its callback,
// a method value made once per connection, allocates nothing.
type awaitState struct {
	b     []byte
	first bool
	sent  int
	tw    time.Time
}

// await is sendAwait's RawConn.Read callback: the first call writes, the
// next (the socket is readable) ends the wait.
func (cn *conn) await(fd uintptr) bool {
	if !cn.aw.first {
		return true
	}
	cn.aw.first = false
	n, errno := rawSyscall(syscall.SYS_WRITE, fd, cn.aw.b)
	if n > 0 {
		cn.aw.sent = n
		cn.raw.nw += int64(n)
	}
	if errno != 0 || n < len(cn.aw.b) {
		return true
	}
	cn.aw.tw = time.Now()
	return false
}

// deadlineSlack is how late a request's deadline may fire. Setting a
// socket deadline moves two runtime timers; a keep-alive connection that
// serves thousands of requests a second would pay for that on every one.
// Instead a connection's deadline is set a little later than its request
// needs, and kept for the requests whose deadlines fall just before it.
const deadlineSlack = 50 * time.Millisecond

// setDeadline makes I/O on cn fail at d, or at most deadlineSlack later.
func (cn *conn) setDeadline(d time.Time) error {
	if !cn.dl.IsZero() && !d.After(cn.dl) && cn.dl.Sub(d) <= deadlineSlack {
		return nil
	}
	cn.dl = d.Add(deadlineSlack)
	return cn.nc.SetDeadline(cn.dl)
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
