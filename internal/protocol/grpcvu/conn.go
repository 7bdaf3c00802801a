package grpcvu

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/threads"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// Flow-control windows of surge's connections: large enough that a fast
// stream never waits for a window update on loopback or a LAN.
const (
	windowSize     = 4 << 20
	connWindowSize = 16 << 20
)

// DefaultConnectTimeout is k6's default for connect's timeout.
const DefaultConnectTimeout = 60 * time.Second

// ConnectParams are connect's options (k6's connect params).
type ConnectParams struct {
	Plaintext bool // no TLS
	// Reflect loads the schema from the server's reflection service.
	Reflect         bool
	ReflectMetadata map[string]string
	Timeout         time.Duration // to establish the connection; default 60s
	MaxReceiveSize  int           // bytes; default gRPC's 4 MiB
	MaxSendSize     int           // bytes; default unlimited
	TLS             *tls.Config   // nil with !Plaintext: system roots, server name from addr
	Authority       string        // :authority override
}

// Conn is an established connection, shareable between VUs (surge grpc
// gives every VU of a run the same few connections, as ghz does).
type Conn struct {
	CC   *grpc.ClientConn
	Addr string
	// Schema came from server reflection when ConnectParams.Reflect was set.
	Schema *Schema
}

// Dial establishes a connection to addr (host:port) and waits until it is
// ready, so that an unreachable server or a failed TLS handshake is
// reported here with its reason rather than on the first call.
func Dial(ctx context.Context, addr string, p ConnectParams) (*Conn, error) {
	if addr == "" {
		return nil, errors.New("connect: no address given")
	}
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "grpc://"), "dns:///")
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	rec := &dialRecorder{}
	cc, err := grpc.NewClient("passthrough:///"+addr, dialOptions(p, rec)...)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := waitReady(dctx, cc, rec, timeout); err != nil {
		cc.Close()
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	c := &Conn{CC: cc, Addr: addr}
	if p.Reflect {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if c.Schema, err = Reflect(rctx, cc, p.ReflectMetadata); err != nil {
			cc.Close()
			return nil, fmt.Errorf("connecting to %s: %w", addr, err)
		}
	}
	return c, nil
}

// dialOptions turns connect's params into grpc-go's options.
func dialOptions(p ConnectParams, rec *dialRecorder) []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithUserAgent("surge"),
		grpc.WithContextDialer(rec.dial),
		// Fixed windows turn off gRPC's bandwidth-delay probing, which
		// sends pings on both sides while data flows, and a shared write
		// buffer saves memory across the many connections of a big test.
		grpc.WithInitialWindowSize(windowSize),
		grpc.WithInitialConnWindowSize(connWindowSize),
		grpc.WithSharedWriteBuffer(true),
	}
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	if !p.Plaintext {
		cfg := p.TLS
		if cfg == nil {
			cfg = &tls.Config{}
		}
		creds = credentials.NewTLS(cfg)
	}
	opts = append(opts, grpc.WithTransportCredentials(recordingCreds{creds, rec}))
	var call []grpc.CallOption
	if p.MaxReceiveSize > 0 {
		call = append(call, grpc.MaxCallRecvMsgSize(p.MaxReceiveSize))
	}
	if p.MaxSendSize > 0 {
		call = append(call, grpc.MaxCallSendMsgSize(p.MaxSendSize))
	}
	if len(call) > 0 {
		opts = append(opts, grpc.WithDefaultCallOptions(call...))
	}
	if p.Authority != "" {
		opts = append(opts, grpc.WithAuthority(p.Authority))
	}
	return opts
}

// waitReady connects and waits for the connection to be ready. The first
// failure ends the wait with its reason (a refused dial, a failed TLS
// handshake), instead of gRPC's retrying until the timeout.
func waitReady(ctx context.Context, cc *grpc.ClientConn, rec *dialRecorder, timeout time.Duration) error {
	cc.Connect()
	for {
		s := cc.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			if err := rec.last(); err != nil {
				return err
			}
			return errors.New("the connection closed during setup (a TLS server and a plaintext client, or not a gRPC server?)")
		}
		if !cc.WaitForStateChange(ctx, s) {
			if err := rec.last(); err != nil {
				return err
			}
			return fmt.Errorf("no connection within %s", timeout)
		}
	}
}

// dialRecorder keeps the last dial or handshake error, which gRPC itself
// only logs.
type dialRecorder struct {
	mu  sync.Mutex
	err error
}

func (r *dialRecorder) set(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

func (r *dialRecorder) last() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *dialRecorder) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		r.set(err)
		return nil, err
	}
	threads.Dialed(c.RemoteAddr())
	return c, nil
}

// recordingCreds records failed handshakes.
type recordingCreds struct {
	credentials.TransportCredentials
	rec *dialRecorder
}

func (c recordingCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil {
		c.rec.set(fmt.Errorf("TLS handshake: %w", err))
	}
	return out, info, err
}

func (c recordingCreds) Clone() credentials.TransportCredentials {
	return recordingCreds{c.TransportCredentials.Clone(), c.rec}
}

// TLSFromPEM builds a client TLS configuration from PEM blocks, as k6's
// connect params carry them (tls: {cert, key, cacerts}): a client
// certificate and key (both or neither) and the CA certificates to verify
// the server with (none: the system's).
func TLSFromPEM(cert, key []byte, cacerts ...[]byte) (*tls.Config, error) {
	cfg := &tls.Config{}
	if (len(cert) == 0) != (len(key) == 0) {
		return nil, errors.New("tls: a client certificate needs its key, and a key its certificate")
	}
	if len(cert) > 0 {
		c, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	if len(cacerts) > 0 {
		cfg.RootCAs = x509.NewCertPool()
		for i, ca := range cacerts {
			if !cfg.RootCAs.AppendCertsFromPEM(ca) {
				return nil, fmt.Errorf("tls: cacerts[%d]: no PEM certificate in it", i)
			}
		}
	}
	return cfg, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.CC.Close() }

// HealthCheck asks the standard health service (grpc.health.v1) about
// service ("" for the whole server) and returns its status name
// ("SERVING", "NOT_SERVING" …).
func (c *Conn) HealthCheck(ctx context.Context, service string) (string, error) {
	resp, err := grpc_health_v1.NewHealthClient(c.CC).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: service})
	if err != nil {
		return "", fmt.Errorf("health check of %q: %w", service, err)
	}
	return resp.GetStatus().String(), nil
}
