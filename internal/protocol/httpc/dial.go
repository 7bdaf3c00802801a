package httpc

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"golang.org/x/net/http2"
)

// dial opens a connection for t: DNS (counted as Blocked, as k6 does), TCP
// (Connecting), then TLS (TLSHandshaking). It returns an HTTP/2 connection
// when ALPN picks h2 or Config.H2C asks for h2c, and parks it in the pool
// for the host's next requests.
func (c *Client) dial(ctx context.Context, t *Target, deadline time.Time, tm *Timings) (*conn, *http2.ClientConn, error) {
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
	raw := &countConn{Conn: nc}
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
func (c *Client) newH2(t *Target, nc net.Conn) (*conn, *http2.ClientConn, error) {
	cc, err := c.h2.NewClientConn(nc)
	if err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hp := c.pool(t.key)
	if hp.h2 != nil && hp.h2.CanTakeNewRequest() {
		_ = cc.Close() // a concurrent request dialed first: share its connection
		return nil, hp.h2, nil
	}
	hp.h2 = cc
	return nil, cc, nil
}
