package grpcvu

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// rawCodec sends requests that were encoded once, ahead of time, and skips
// decoding replies: the fast path of a fixed request (surge grpc), where
// only the status matters. It keeps the name "proto" so the content type on
// the wire stays application/grpc+proto.
type rawCodec struct{}

// rawFrame is a message already in the wire format.
type rawFrame struct{ b []byte }

var _ encoding.CodecV2 = rawCodec{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	f, ok := v.(*rawFrame)
	if !ok {
		return nil, fmt.Errorf("grpcvu: raw codec cannot send %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(f.b)}, nil
}

// Unmarshal discards the reply; its size is kept when asked for.
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*rawFrame); ok && f != nil {
		f.b = f.b[:0]
		f.b = append(f.b, data.Materialize()...)
	}
	return nil
}
