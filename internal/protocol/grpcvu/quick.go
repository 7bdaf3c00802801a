package grpcvu

import (
	"context"
	"fmt"
	"time"

	"github.com/surgeload/surge/internal/vu"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// FixedVU makes one prepared unary call per iteration: the VU of a quick
// `surge grpc` test. The request is encoded once; replies are received and
// dropped undecoded.
type FixedVU struct {
	c       *Client
	m       *Method
	req     rawFrame
	md      metadata.MD
	timeout time.Duration
	opts    []grpc.CallOption
	p       InvokeParams
}

// discardFrame receives a reply without decoding it.
type discardFrame struct{}

// NewFixedVU prepares method with the JSON request over a shared
// connection. An unknown method or a request that does not match the
// schema is an error.
func NewFixedVU(st *vu.State, conn *Conn, schema *Schema, method string, req []byte, p InvokeParams) (*FixedVU, error) {
	c := New(st)
	c.UseConn(conn)
	c.SetSchema(schema)
	m, err := c.method("invoke", method)
	if err != nil {
		return nil, err
	}
	if m.ClientStreaming || m.ServerStreaming {
		return nil, fmt.Errorf("invoke %s: a %s method; quick mode calls unary methods", m.Path, m.Kind())
	}
	b, err := schema.MarshalRequest(m, req)
	if err != nil {
		return nil, err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	v := &FixedVU{c: c, m: m, req: rawFrame{b}, timeout: timeout, p: p,
		opts: []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}}
	if len(p.Metadata) > 0 {
		v.md = metadata.New(p.Metadata)
	}
	return v, nil
}

// RunIteration makes the call. A failed call is a sample with its status,
// not an error of the iteration.
func (v *FixedVU) RunIteration(ctx context.Context) error {
	parent := ctx
	if v.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, v.md)
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	start := time.Now()
	err := v.c.conn.CC.Invoke(ctx, v.m.Path, &v.req, discardFrame{}, v.opts...)
	d := time.Since(start)
	cancel()
	if err != nil && parent.Err() != nil {
		return nil // cut off by the end of the test: not a sample
	}
	st := status.Convert(err)
	due, _ := v.c.st.TakeDue()
	v.c.recordCall(v.m, st.Code(), v.p.Tags, start, d, due)
	if err != nil {
		v.c.st.Registry.Errors.Add("grpc", st.Code().String()+": "+st.Message(), v.m.Path)
	}
	return nil
}
