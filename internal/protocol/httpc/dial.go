package httpc

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/threads"
	"golang.org/x/net/http2"
)

// dial opens a connection for t: DNS (counted as Blocked, as k6 does), TCP
// (Connecting), then TLS (TLSHandshaking). It returns an HTTP/2 connection
// when ALPN picks h2 or Config.H2C asks for h2c, and parks it in the pool
// for the host's next requests.
func (c *Client) dial(ctx context.Context, t *Target, deadline time.Time, tm *Timings) (*conn, *h2Conn, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t0 := time.Now()
	ip, err := c.resolve(dctx, t.hostname)
	if err != nil {
		return nil, nil, &phaseError{phaseDNS, err}
	}
	t1 := time.Now()
	tm.Blocked = t1.Sub(t0)
	nc, err := c.dialer.DialContext(dctx, "tcp", net.JoinHostPort(ip, t.port))
	tm.Connecting = time.Since(t1)
	if err != nil {
		return nil, nil, &phaseError{phaseDial, err}
	}
	threads.Dialed(nc.RemoteAddr())
	raw := newCountConn(nc)
	if !t.https {
		if c.cfg.H2C {
			return c.newH2(t, raw)
		}
		return newConn(raw, raw), nil, nil
	}
	t2 := time.Now()
	tc := tls.Client(raw, c.tlsConfig(t.hostname))
	err = tc.HandshakeContext(dctx)
	tm.TLSHandshaking = time.Since(t2)
	if err != nil {
		_ = nc.Close()
		return nil, nil, &phaseError{phaseTLS, err}
	}
	if tc.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
		return c.newH2(t, tc)
	}
	return newConn(raw, tc), nil, nil
}

// resolve returns an address to dial for host: host itself when it is an
// IP address, otherwise the first address DNS returns.
func (c *Client) resolve(ctx context.Context, host string) (string, error) {
	if net.ParseIP(host) != nil {
		return host, nil
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return "", err
	}
	return addrs[0], nil
}

func (c *Client) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if c.cfg.TLS != nil {
		cfg = c.cfg.TLS.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if c.cfg.DisableHTTP2 {
		cfg.NextProtos = []string{"http/1.1"}
	} else {
		cfg.NextProtos = []string{http2.NextProtoTLS, "http/1.1"}
	}
	return cfg
}

// newH2 starts an HTTP/2 client connection over nc and makes it the host's.
//
// Note: x/net/http2's Transport.NewClientConn is deprecated in favor of
// net/http's, but that one dials by itself; httpc dials, resolves and
// handshakes on its own to time each phase and to count bytes below TLS,
// so it needs the variant that takes an established net.Conn.
func (c *Client) newH2(t *Target, nc net.Conn) (*conn, *h2Conn, error) {
	rc := &recordConn{Conn: nc}
	cc, err := c.h2.NewClientConn(rc)
	if err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	h := &h2Conn{cc: cc, nc: rc}
	c.mu.Lock()
	defer c.mu.Unlock()
	hp := c.pool(t.key)
	if other := hp.usableH2(); other != nil {
		_ = cc.Close() // a concurrent request dialed first: share its connection
		return nil, other, nil
	}
	hp.h2 = append(hp.h2, h)
	return nil, h, nil
}

// h2Conn is a host's HTTP/2 connection.
type h2Conn struct {
	cc *http2.ClientConn
	nc *recordConn
}

// recordConn keeps the first read error of a connection. The HTTP/2
// transport reports a dead connection without its cause; a TLS alert (a
// rejected client certificate) is that cause, and decides the error code.
type recordConn struct {
	net.Conn
	mu  sync.Mutex
	err error
}

func (c *recordConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordConn) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
