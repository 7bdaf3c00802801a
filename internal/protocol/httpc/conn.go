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

	"github.com/surgeload/surge/internal/clock"
)

// countConn counts the bytes that cross the socket, below TLS.
type countConn struct {
	net.Conn
	nr, nw int64

	// A TCP socket is read with a raw system call inside RawConn.Read:
	// the socket is non-blocking, so the call cannot hold the thread, and
	// skipping the runtime's entersyscall/exitsyscall keeps the P (and
	// sysmon, which would otherwise hand it to another thread during a
	// slow loopback call) out of it. See rawIO.
	rc   syscall.RawConn
	ioFn func(fd uintptr) bool // c.rawIO, made once
	rp   []byte                // rawIO's read buffer
	rn   int
	rerr syscall.Errno

	// send is a request to write before the next read (sendThenRead);
	// sent is how much of it rawIO wrote, and tw when.
	send []byte
	sent int
	tw   time.Time
}

func newCountConn(nc net.Conn) *countConn {
	c := &countConn{Conn: nc}
	if tc, ok := nc.(*net.TCPConn); ok {
		c.rc, _ = tc.SyscallConn()
		c.ioFn = c.rawIO
	}
	return c
}

// sendThenRead makes the next Read write b first, in the same RawConn.Read
// as the read that takes the response: one write, one wait, one read, as
// wrk does, where Write-then-Read costs a read that finds nothing (EAGAIN)
// before the goroutine parks. The write happens after the poller's read
// readiness was reset, so the response's arrival cannot be missed. If the
// write is short or fails, Read writes the rest the ordinary way, which
// reports any error as net.Conn does.
func (c *countConn) sendThenRead(b []byte) { c.send, c.sent, c.tw = b, 0, time.Time{} }

// sentAt is when the last sendThenRead's request was written in full.
func (c *countConn) sentAt() time.Time { return c.tw }

func (c *countConn) Read(p []byte) (int, error) {
	if c.rc == nil || len(p) == 0 {
		n, err := c.Conn.Read(p)
		c.nr += int64(n)
		return n, err
	}
	send := c.send
	c.rp, c.rn, c.rerr = p, 0, 0
	err := c.rc.Read(c.ioFn)
	n, errno := c.rn, c.rerr
	c.rp, c.send = nil, nil
	c.nr += int64(n)
	if send != nil && c.sent < len(send) {
		// a short or failed write: the rest goes the ordinary way
		m, werr := c.Conn.Write(send[c.sent:])
		c.nw += int64(m)
		c.sent += m
		if werr != nil {
			return 0, werr
		}
		c.tw = clock.Now()
		n, err := c.Conn.Read(p)
		c.nr += int64(n)
		return n, err
	}
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

// rawIO is Read's RawConn.Read callback: the pending request's write(2),
// if any, then one read(2), waiting for the poller while the socket has
// nothing (EAGAIN).
func (c *countConn) rawIO(fd uintptr) bool {
	if c.send != nil && c.sent == 0 {
		n, errno := rawSyscall(syscall.SYS_WRITE, fd, c.send)
		if n > 0 {
			c.sent = n
			c.nw += int64(n)
		}
		if errno != 0 || n < len(c.send) {
			return true // Read writes the rest
		}
		c.tw = clock.Now()
		return false // the response cannot have come yet: wait
	}
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
	raw    *countConn
	nc     net.Conn  // raw, or a *tls.Conn over it
	plain  bool      // a plain TCP connection, read and written raw (countConn.sendThenRead)
	dl     time.Time // the deadline set on nc, or zero
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
	cn := &conn{raw: raw, nc: nc, br: bufio.NewReaderSize(nc, connBufferSize)}
	cn.plain = raw.rc != nil && nc == net.Conn(raw)
	return cn
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
