package wsvu

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
	"github.com/surgeload/surge/internal/vu"
)

// BenchmarkEchoVU is surge ws's hot path: round trips of parallel VUs, a
// session each, against the loopback echo server.
func BenchmarkEchoVU(b *testing.B) {
	srv := wstest.Start()
	defer srv.Close()
	reg := metrics.NewRegistry()
	var ids atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := int(ids.Add(1))
		v := NewEchoVU(vu.New(reg, id, id-1, "default", reg.Intern()), srv.URL+"/echo", Params{}, []byte("hello"), false)
		defer v.Stop(context.Background())
		for pb.Next() {
			v.RunIteration(context.Background())
		}
	})
	reg.Tick(time.Now().Add(time.Hour))
	if n := reg.Total(reg.Get("ws_msgs_received")).Sum; n != float64(b.N) {
		b.Errorf("%v messages received, want %d", n, b.N)
	}
}
