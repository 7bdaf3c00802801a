package grpcvu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/surgeload/surge/internal/vu"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
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

// QuickVU is a VU of surge grpc: FixedVU for unary methods, FixedStreamVU
// for streaming ones.
type QuickVU interface {
	RunIteration(ctx context.Context) error
}

// NewQuickVU prepares method with the JSON request: one message, or for a
// client or bidirectional stream a JSON array of the messages to send.
func NewQuickVU(st *vu.State, conn *Conn, schema *Schema, method string, req []byte, p InvokeParams) (QuickVU, error) {
	m, err := schema.Method(method)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	if !m.ClientStreaming && !m.ServerStreaming {
		return NewFixedVU(st, conn, schema, method, req, p)
	}
	return NewFixedStreamVU(st, conn, schema, m, req, p)
}

// FixedStreamVU opens one stream per iteration, writes the prepared
// messages, ends its side and reads every reply (counted, not decoded
// into JSON). A stream that ends with a non-OK status is counted in the
// error log; the VU goes on.
type FixedStreamVU struct {
	c    *Client
	m    *Method
	msgs []proto.Message
	p    InvokeParams
}

// NewFixedStreamVU parses the messages once.
func NewFixedStreamVU(st *vu.State, conn *Conn, schema *Schema, m *Method, req []byte, p InvokeParams) (*FixedStreamVU, error) {
	c := New(st)
	c.UseConn(conn)
	c.SetSchema(schema)
	var parts []json.RawMessage
	trimmed := bytes.TrimSpace(req)
	if m.ClientStreaming && len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &parts); err != nil {
			return nil, fmt.Errorf("stream %s: the messages are not a JSON array: %w", m.Path, err)
		}
	} else {
		parts = []json.RawMessage{trimmed}
	}
	v := &FixedStreamVU{c: c, m: m, p: p}
	for i, part := range parts {
		msg, err := schema.NewRequest(m, part)
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("message %d: %w", i, err)
			}
			return nil, err
		}
		v.msgs = append(v.msgs, msg)
	}
	return v, nil
}

// RunIteration makes one stream.
func (v *FixedStreamVU) RunIteration(ctx context.Context) error {
	s, err := v.c.NewStream(ctx, v.m.Path, v.p, nil)
	if err != nil {
		if ctx.Err() == nil {
			v.c.st.Registry.Errors.Add("grpc", err.Error(), v.m.Path)
		}
		return nil
	}
	for _, msg := range v.msgs {
		if s.send(msg) != nil {
			break // the stream's end has the reason
		}
	}
	s.End()
	s.Wait()
	return nil
}
