package cluster

import (
	"context"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// closedStream is a stream whose master already closed it: every send
// fails with io.EOF, as gRPC reports a stream the server ended.
type closedStream struct{ ctx context.Context }

func (s closedStream) Header() (metadata.MD, error) { return nil, nil }
func (s closedStream) Trailer() metadata.MD         { return nil }
func (s closedStream) CloseSend() error             { return nil }
func (s closedStream) Context() context.Context     { return s.ctx }
func (s closedStream) SendMsg(any) error            { return io.EOF }
func (s closedStream) RecvMsg(any) error            { return io.EOF }

var _ grpc.ClientStream = closedStream{}

// TestSendFailedAfterTheMasterEndedTheRun: a report that fails because the
// master closed its stream right after its last Stop is not a lost master
// when that Stop was received; a stream that ended without one is.
func TestSendFailedAfterTheMasterEndedTheRun(t *testing.T) {
	tests := []struct {
		name string
		msgs []*ToWorker
		lost bool
	}{
		{"stop then end", []*ToWorker{{Stop: &Stop{Reason: "the run is over", Exit: true}}}, false},
		{"end without stop", nil, true},
		{"stop without exit then end", []*ToWorker{{Stop: &Stop{Reason: "run 1 ended"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &worker{cfg: WorkerConfig{Log: io.Discard}, st: closedStream{context.Background()}}
			msgs := make(chan *ToWorker, 4)
			for _, m := range tt.msgs {
				msgs <- m
			}
			recvErr := make(chan error, 1)
			recvErr <- io.EOF
			stopped := false
			err := w.sendFailed(context.Background(), io.EOF, msgs, recvErr, func() { stopped = true })
			var lost *LostMasterError
			if got := errors.As(err, &lost); got != tt.lost {
				t.Fatalf("sendFailed = %v; lost master %v, want %v", err, got, tt.lost)
			}
			if !stopped {
				t.Error("the runs were not stopped")
			}
		})
	}
}
