package httpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/clock"
	"golang.org/x/net/http2"
)

// Client sends requests for one virtual user. It is safe for concurrent
// use: concurrent requests to one host each get their own HTTP/1.1
// connection, or share the host's HTTP/2 connection.
type Client struct {
	cfg    Config
	uaLine []byte // "User-Agent: …\r\n"
	dialer net.Dialer
	h2     *http2.Transport

	jar        *cookiejar.Jar
	hasCookies atomic.Bool // the jar has been given a cookie

	mu    sync.Mutex
	hosts map[string]*hostPool // by Target.key
}

// hostPool holds a host's idle HTTP/1.1 connections, or its HTTP/2
// connections when the host speaks HTTP/2 (more than one only when a VU
// has more requests in flight than the server allows streams).
type hostPool struct {
	idle []*conn
	h2   []*h2Conn
}

// New returns a Client for cfg (see Config for the defaults it applies).
func New(cfg Config) *Client {
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:    cfg,
		uaLine: []byte("User-Agent: " + cfg.UserAgent + "\r\n"),
		dialer: net.Dialer{KeepAlive: defaultDialKeepAlive},
		hosts:  make(map[string]*hostPool),
		h2: &http2.Transport{
			AllowHTTP:          true,
			DisableCompression: !cfg.Gzip,
		},
	}
	if cfg.Cookies {
		c.jar, _ = cookiejar.New(nil) // New never fails without options
	}
	return c
}

// Jar returns the Client's cookie jar, nil when Config.Cookies is off.
func (c *Client) Jar() http.CookieJar {
	if c.jar == nil {
		return nil
	}
	return c.jar
}

// SetCookies stores cookies for u in the Client's jar, as a response's
// Set-Cookie would. It does nothing when Config.Cookies is off.
func (c *Client) SetCookies(u *url.URL, cookies []*http.Cookie) {
	if c.jar == nil || len(cookies) == 0 {
		return
	}
	c.jar.SetCookies(u, cookies)
	c.hasCookies.Store(true)
}

// Do sends req and fills resp, following redirects up to
// Config.MaxRedirects. A failed request is a normal outcome: resp.Err and
// resp.ErrorCode describe it, and Do returns resp.Err. resp's buffers are
// reused, so resp.Body is valid until the next Do with resp.
func (c *Client) Do(ctx context.Context, req *Request, resp *Response) error {
	return c.DoAt(ctx, req, resp, time.Time{})
}

// DoAt is Do for a request that began at start, a time the caller has
// just read from the clock (zero: now).
func (c *Client) DoAt(ctx context.Context, req *Request, resp *Response, start time.Time) error {
	resp.reset()
	if start.IsZero() {
		start = clock.Now()
	}
	resp.Start = start
	resp.URL, resp.Method = req.URL, req.Method
	if resp.Method == "" {
		resp.Method = http.MethodGet
	}
	t, err := req.Prepare()
	if err != nil {
		return resp.fail(prepareError(req, err), false)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = c.cfg.Timeout
	}
	deadline := start.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, timeout = d, 0 // 0: the context's deadline, for messages
	}
	for {
		var tm Timings
		err := c.roundTrip(ctx, t, start, deadline, timeout, resp, &tm)
		tm.Duration = tm.Sending + tm.Waiting + tm.Receiving
		resp.Timings.add(tm)
		if err != nil {
			return resp.fail(err, errors.Is(err, errBodyTooLarge))
		}
		if resp.setCookie && c.jar != nil {
			c.SetCookies(t.URL, readSetCookies(resp.Header()))
		}
		next, err := c.nextHop(t, resp)
		if err != nil {
			return resp.fail(err, true)
		}
		if next == nil {
			break
		}
		if c.cfg.OnRedirect != nil {
			c.cfg.OnRedirect(resp)
			resp.Timings, resp.BytesSent, resp.BytesReceived = Timings{}, 0, 0
		}
		t = next
		start = clock.Now()
		resp.Redirects++
		resp.URL = t.rawURL
		resp.Method = t.Method
	}
	if resp.Status >= 400 && resp.Status < 600 {
		resp.ErrorCode = 1000 + resp.Status
	}
	return nil
}

// prepareError is the error of a request that could not be serialized:
// 1020 for a bad URL, 1000 for a bad method or header.
func prepareError(req *Request, err error) error {
	code := CodeGeneric
	if errors.Is(err, ErrInvalidURL) {
		code = CodeInvalidURL
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	return &Error{Code: code, Op: method + " " + req.URL, Err: err}
}

// nextHop returns the Target a redirect response points to, or nil when
// there is nothing to follow.
func (c *Client) nextHop(t *Target, resp *Response) (*Target, error) {
	if !isRedirect(resp.Status) || len(resp.location) == 0 || c.cfg.MaxRedirects == 0 {
		return nil, nil
	}
	if resp.Redirects >= c.cfg.MaxRedirects {
		err := fmt.Errorf("stopped after %d redirects (MaxRedirects); last Location %q", resp.Redirects, resp.location)
		return nil, &Error{Code: CodeGeneric, Op: t.op, Err: err}
	}
	next, err := t.redirect(resp.Status, string(resp.location))
	if err != nil {
		return nil, &Error{Code: CodeGeneric, Op: t.op, Err: err}
	}
	return next, nil
}

// fail records err in r. keepStatus keeps the status of a response that did
// arrive (a body beyond the cap, a redirect limit); otherwise Status is 0.
func (r *Response) fail(err error, keepStatus bool) error {
	if !keepStatus {
		r.Status = 0
	}
	r.Err = err
	var e *Error
	if errors.As(err, &e) {
		r.ErrorCode = e.Code
	} else {
		r.ErrorCode = CodeGeneric
	}
	return err
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func readSetCookies(h http.Header) []*http.Cookie {
	return (&http.Response{Header: h}).Cookies()
}

// maxRetries bounds how often a request that provably never reached the
// server is sent again.
const maxRetries = 2

// roundTrip performs one hop: it takes or dials a connection and exchanges
// one request and response. A request that never reached the server (a
// reused HTTP/1.1 connection that fails before any response byte, an
// HTTP/2 connection that was full or had died, a refused stream) is sent
// again, up to maxRetries times.
func (c *Client) roundTrip(ctx context.Context, t *Target, t0, deadline time.Time, timeout time.Duration, resp *Response, tm *Timings) error {
	for attempt := 0; ; attempt++ {
		resp.resetHop()
		*tm = Timings{}
		if attempt > 0 {
			t0 = clock.Now()
		}
		cn, cc := c.getConn(t.key)
		var err error
		var t1 time.Time // when the connection was in hand
		if cn == nil && cc == nil {
			if cn, cc, err = c.dial(ctx, t, deadline, tm); err != nil {
				return c.wrap(ctx, t, timeout, err)
			}
			t1 = clock.Now()
		} else {
			// an idle connection was in hand at once: nothing blocked the
			// request, and what it took to take it counts as sending
			t1 = t0
		}
		var retry bool
		if cc != nil {
			retry, err = c.roundTripH2(ctx, cc, t, deadline, resp, tm)
		} else {
			retry, err = c.roundTripH1(ctx, cn, t, t1, deadline, resp, tm)
		}
		if err != nil && retry && attempt < maxRetries {
			continue
		}
		if err != nil {
			return c.wrap(ctx, t, timeout, err)
		}
		return nil
	}
}

// roundTripH1 sends t over cn and puts cn back in the pool if it can serve
// another request.
func (c *Client) roundTripH1(ctx context.Context, cn *conn, t *Target, ts, deadline time.Time, resp *Response, tm *Timings) (retry bool, err error) {
	if !cn.watch(ctx) {
		cn.close()
		return true, errors.New("connection canceled")
	}
	if err := cn.setDeadline(deadline); err != nil {
		cn.close()
		return cn.reused, err
	}
	if err := ctx.Err(); err != nil {
		cn.close()
		return false, err
	}
	var w0, r0 int64 // a new connection's first request carries its TLS handshake
	if cn.reused {
		w0, r0 = cn.raw.nw, cn.raw.nr
	}
	reuse, started, err := c.exchange(cn, t, ts, resp, tm)
	resp.BytesSent += cn.raw.nw - w0
	resp.BytesReceived += cn.raw.nr - r0
	if err != nil {
		cn.close()
		return cn.reused && !started && retryable(err), err
	}
	if reuse && cn.br.Buffered() == 0 {
		cn.reused = true
		cn.idle()
		c.putConn(t.key, cn)
	} else {
		cn.close()
	}
	return false, nil
}

// retryable reports whether err looks like a server that closed an idle
// keep-alive connection, rather than a slow or broken server.
func retryable(err error) bool {
	return !isTimeout(err) && !errors.Is(err, context.Canceled)
}

// wrap turns err into an *Error with its k6 code and a message that names
// the request. timeout is the request's, or 0 when the context's deadline
// came first.
func (c *Client) wrap(ctx context.Context, t *Target, timeout time.Duration, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Op != "" {
		return err
	}
	ph := phaseExchange
	var pe *phaseError
	if errors.As(err, &pe) {
		ph, err = pe.phase, pe.err
	}
	code := classify(ph, err)
	if e != nil {
		code = e.Code
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
		if errors.Is(cerr, context.Canceled) {
			code = CodeGeneric
		}
	} else if code == CodeTimeout && timeout == 0 {
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	} else if code == CodeTimeout {
		err = fmt.Errorf("request timed out after %v: %w", timeout, err)
	}
	return &Error{Code: code, Op: t.op, Err: err}
}

// phaseError tags an error with the phase it happened in.
type phaseError struct {
	phase phase
	err   error
}

func (e *phaseError) Error() string { return e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

// getConn takes an idle connection for key, or the host's HTTP/2
// connection; both nil means dial.
func (c *Client) getConn(key string) (*conn, *h2Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hp := c.hosts[key]
	if hp == nil {
		return nil, nil
	}
	if h := hp.usableH2(); h != nil {
		return nil, h
	}
	for n := len(hp.idle); n > 0; n = len(hp.idle) {
		cn := hp.idle[n-1]
		hp.idle[n-1] = nil
		hp.idle = hp.idle[:n-1]
		if !cn.canceled.Load() {
			return cn, nil
		}
		cn.close()
	}
	return nil, nil
}

// putConn parks an idle connection, or closes it when the pool is full.
func (c *Client) putConn(key string, cn *conn) {
	c.mu.Lock()
	hp := c.pool(key)
	if len(hp.idle) >= c.cfg.MaxIdlePerHost {
		c.mu.Unlock()
		cn.close()
		return
	}
	hp.idle = append(hp.idle, cn)
	c.mu.Unlock()
}

// pool returns key's hostPool, creating it; c.mu must be held.
func (c *Client) pool(key string) *hostPool {
	hp := c.hosts[key]
	if hp == nil {
		hp = &hostPool{}
		c.hosts[key] = hp
	}
	return hp
}

// CloseIdle closes the Client's idle connections, and HTTP/2 connections
// with no request in flight. Call it when the VU stops.
func (c *Client) CloseIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hp := range c.hosts {
		for i, cn := range hp.idle {
			cn.close()
			hp.idle[i] = nil
		}
		hp.idle = hp.idle[:0]
		hp.h2 = slices.DeleteFunc(hp.h2, func(h *h2Conn) bool {
			if h.cc.State().StreamsActive > 0 {
				return false
			}
			_ = h.cc.Close()
			return true
		})
	}
}

// usableH2 returns an HTTP/2 connection with a stream reserved for the
// caller's next RoundTrip, forgetting closed connections; c.mu must be held.
func (hp *hostPool) usableH2() *h2Conn {
	hp.h2 = slices.DeleteFunc(hp.h2, func(h *h2Conn) bool { return h.cc.State().Closed })
	for _, h := range hp.h2 {
		if h.cc.ReserveNewRequest() {
			return h
		}
	}
	return nil
}
