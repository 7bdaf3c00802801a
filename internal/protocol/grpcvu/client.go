package grpcvu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Client is one VU's gRPC client: k6's grpc.Client. It is used from the
// VU's goroutine only; streams it opens deliver their events from their own
// goroutines.
type Client struct {
	st     *vu.State
	m      *Metrics
	schema *Schema
	conn   *Conn
	owned  bool // conn was dialed by this client, so Close closes it

	mu    sync.Mutex // guards cache: async calls record from their goroutines
	cache map[callKey]*metrics.Agg
}

// New returns a VU's client. It records into st's shard.
func New(st *vu.State) *Client {
	return &Client{st: st, m: RegisterMetrics(st.Registry), cache: map[callKey]*metrics.Agg{}}
}

// Load parses proto files for the calls that follow (k6's client.load) and
// returns the methods they define.
func (c *Client) Load(importPaths []string, files ...string) ([]string, error) {
	s, err := Load(importPaths, files...)
	if err != nil {
		return nil, err
	}
	c.schema = s
	return s.Methods(), nil
}

// LoadProtoset reads a compiled descriptor set (k6's client.loadProtoset).
func (c *Client) LoadProtoset(path string) ([]string, error) {
	s, err := LoadProtoset(path)
	if err != nil {
		return nil, err
	}
	c.schema = s
	return s.Methods(), nil
}

// SetSchema uses a schema loaded elsewhere.
func (c *Client) SetSchema(s *Schema) { c.schema = s }

// Schema is the client's schema, nil before Load or a reflecting Connect.
func (c *Client) Schema() *Schema { return c.schema }

// Connect dials addr (k6's client.connect). With p.Reflect the schema comes
// from the server.
func (c *Client) Connect(ctx context.Context, addr string, p ConnectParams) error {
	if c.conn != nil {
		return fmt.Errorf("connect %s: already connected to %s; close first", addr, c.conn.Addr)
	}
	conn, err := Dial(ctx, addr, p)
	if err != nil {
		return err
	}
	c.UseConn(conn)
	c.owned = true
	return nil
}

// UseConn makes the client call over a connection it does not own (shared
// between VUs); Close leaves it open.
func (c *Client) UseConn(conn *Conn) {
	c.conn, c.owned = conn, false
	if conn.Schema != nil {
		c.schema = conn.Schema
	}
}

// Close closes the client's connection (k6's client.close).
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	var err error
	if c.owned {
		err = c.conn.Close()
	}
	c.conn = nil
	return err
}

// HealthCheck is k6's client.healthCheck.
func (c *Client) HealthCheck(ctx context.Context, service string) (string, error) {
	if c.conn == nil {
		return "", errors.New("health check: not connected; call connect first")
	}
	return c.conn.HealthCheck(ctx, service)
}

// InvokeParams are k6's per-call params.
type InvokeParams struct {
	Metadata map[string]string
	Tags     *metrics.TagSet // extra tags, interned by the caller
	Timeout  time.Duration   // 0: k6's default of 60s
	// DiscardResponseMessage skips rendering the reply as JSON.
	DiscardResponseMessage bool
}

// DefaultCallTimeout is k6's default timeout of a call.
const DefaultCallTimeout = 60 * time.Second

// Response is what invoke returns (k6's response object).
type Response struct {
	Status   codes.Code
	Message  []byte // the reply as JSON; nil on failure or when discarded
	Headers  metadata.MD
	Trailers metadata.MD
	// Error is set when Status is not OK: code, message and details.
	Error *status.Status
}

// method resolves a method name against the loaded schema.
func (c *Client) method(op, name string) (*Method, error) {
	if c.conn == nil {
		return nil, fmt.Errorf("%s %s: not connected; call connect first", op, name)
	}
	if c.schema == nil {
		return nil, fmt.Errorf("%s %s: no protos loaded; call load, loadProtoset or connect with reflect", op, name)
	}
	m, err := c.schema.Method(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return m, nil
}

// Invoke makes a unary call with a JSON request (k6's client.invoke). A
// call the server failed, or that never reached it, is a Response with a
// non-OK status, recorded in grpc_req_duration; the returned error is for
// mistakes in the script: an unknown method, a streaming method, a request
// that does not match the schema.
func (c *Client) Invoke(ctx context.Context, name string, req []byte, p InvokeParams) (*Response, error) {
	m, in, err := c.prepareUnary("invoke", name, req)
	if err != nil {
		return nil, err
	}
	due, _ := c.st.TakeDue()
	return c.call(ctx, c.conn, m, in, p, due)
}

// InvokeAsync is k6's client.asyncInvoke: script mistakes are returned at
// once; the call itself runs on its own goroutine and done gets its outcome
// there (a JS module queues it to settle the promise on the VU's loop).
func (c *Client) InvokeAsync(ctx context.Context, name string, req []byte, p InvokeParams, done func(*Response, error)) error {
	m, in, err := c.prepareUnary("asyncInvoke", name, req)
	if err != nil {
		return err
	}
	due, _ := c.st.TakeDue()
	conn := c.conn
	go func() { done(c.call(ctx, conn, m, in, p, due)) }()
	return nil
}

func (c *Client) prepareUnary(op, name string, req []byte) (*Method, *dynamicpb.Message, error) {
	m, err := c.method(op, name)
	if err != nil {
		return nil, nil, err
	}
	if m.ClientStreaming || m.ServerStreaming {
		return nil, nil, fmt.Errorf("%s %s: a %s method; open a stream instead", op, m.Path, m.Kind())
	}
	in, err := c.schema.NewRequest(m, req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	return m, in, nil
}

// call makes the call and records it; due is the iteration's due time when
// this is its first request. It may run off the VU's goroutine.
func (c *Client) call(ctx context.Context, conn *Conn, m *Method, in *dynamicpb.Message, p InvokeParams, due time.Time) (*Response, error) {
	out := dynamicpb.NewMessage(m.Desc.Output())
	resp := &Response{}
	parent := ctx
	ctx, cancel := callContext(ctx, p.Metadata, p.Timeout)
	defer cancel()
	start := time.Now()
	err := conn.CC.Invoke(ctx, m.Path, in, out, grpc.Header(&resp.Headers), grpc.Trailer(&resp.Trailers))
	d := time.Since(start)
	st := status.Convert(err)
	resp.Status = st.Code()
	if err != nil && parent.Err() != nil {
		resp.Error = st
		return resp, nil // cut off by the end of the iteration: not a sample
	}
	c.recordCall(m, resp.Status, p.Tags, start, d, due)
	if err != nil {
		resp.Error = st
		c.st.Registry.Errors.Add("grpc", st.Code().String()+": "+st.Message(), m.Path)
		return resp, nil
	}
	if !p.DiscardResponseMessage {
		if resp.Message, err = c.schema.JSON(out); err != nil {
			return resp, fmt.Errorf("invoke %s: rendering the reply: %w", m.Path, err)
		}
	}
	return resp, nil
}

func callContext(ctx context.Context, md map[string]string, timeout time.Duration) (context.Context, context.CancelFunc) {
	if len(md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(md))
	}
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	return context.WithTimeout(ctx, timeout)
}
