package js

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu/grpctest"
	"github.com/surgeload/surge/internal/vu"
)

// BenchmarkGRPCInvoke is one script iteration of a unary call with a
// check of the reply: the per-call cost of k6/net/grpc over grpcvu.
func BenchmarkGRPCInvoke(b *testing.B) {
	srv, err := grpctest.Start(grpctest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	dir, _ := os.Getwd()
	src := `import grpc from "k6/net/grpc";
const client = new grpc.Client();
client.load([__ENV.PROTOS], "echo.proto");
export default function () {
  if (__ITER === 0) client.connect(__ENV.ADDR, { plaintext: true });
  const r = client.invoke("surge.echo.v1.Echo/Say", { message: "hello" });
  if (r.message.message !== "hello") throw new Error("bad reply");
}`
	p := filepath.Join(b.TempDir(), "bench.js")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	s, err := Load(context.Background(), p, Config{Registry: reg, Env: map[string]string{
		"ADDR": srv.Addr, "PROTOS": filepath.Join(dir, "../protocol/grpcvu/grpctest")}})
	if err != nil {
		b.Fatal(err)
	}
	st := vu.New(reg, 1, 0, "default", reg.Intern())
	v, err := s.NewVUFunc("", nil, true)(st)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.RunIteration(ctx); err != nil {
			b.Fatal(err)
		}
		st.Iteration++
	}
}
