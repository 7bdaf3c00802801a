package grpcvu

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"github.com/surgeload/surge/internal/vu"
)

// BenchmarkFixedVU is surge grpc's hot path: prepared unary calls from
// parallel VUs over one shared connection to the loopback Echo server.
// Compare with ghz using examples/grpc/bench.sh.
func BenchmarkFixedVU(b *testing.B) {
	srv, err := grpctest.Start(grpctest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	conn, err := Dial(context.Background(), srv.Addr, ConnectParams{Plaintext: true, Reflect: true, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	reg := metrics.NewRegistry()
	var ids atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := int(ids.Add(1))
		v, err := NewFixedVU(vu.New(reg, id, id-1, "default", reg.Intern()), conn, conn.Schema, say, []byte(`{"message":"hello"}`), InvokeParams{})
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			v.RunIteration(context.Background())
		}
	})
	reg.Tick(time.Now().Add(time.Hour))
	if n := reg.Total(reg.Get("grpc_req_duration"), metrics.Tag{Key: "status", Value: "0"}).Count; n != int64(b.N) {
		b.Errorf("%d OK calls recorded, want %d", n, b.N)
	}
}
