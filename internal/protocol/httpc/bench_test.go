package httpc

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"testing"
)

// TestGetAllocatesNothing holds the design's promise: a keep-alive GET of a
// prepared request costs no allocation, client and response included.
func TestGetAllocatesNothing(t *testing.T) {
	srv := startRawServer(t, jsonResponse)
	cfg := DefaultConfig()
	c := New(cfg)
	defer c.CloseIdle()
	req := &Request{URL: srv.url()}
	var resp Response
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 3 { // dial, size the buffers
		if err := c.Do(ctx, req, &resp); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		if err := c.Do(ctx, req, &resp); err != nil || resp.Status != 200 || len(resp.Body) != 32 {
			t.Fatalf("Do: status %d, %d body bytes, err %v", resp.Status, len(resp.Body), err)
		}
	})
	if allocs != 0 {
		t.Errorf("keep-alive GET: %.1f allocations per request, want 0", allocs)
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1 (keep-alive)", n)
	}
}

// BenchmarkClientGet is one VU's loop: sequential keep-alive GETs of a
// 32-byte JSON response from a raw TCP server.
func BenchmarkClientGet(b *testing.B) {
	srv := startRawServer(b, jsonResponse)
	c := New(DefaultConfig())
	defer c.CloseIdle()
	req := &Request{URL: srv.url()}
	var resp Response
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(ctx, req, &resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetHTTPGet is the same loop with net/http, for comparison.
func BenchmarkNetHTTPGet(b *testing.B) {
	srv := startRawServer(b, jsonResponse)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := srv.url()
	b.ReportAllocs()
	for b.Loop() {
		res, err := hc.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// BenchmarkClientGetParallel is many VUs, each with its own Client and
// connection, as the engine runs them; ns/op is the aggregate cost.
func BenchmarkClientGetParallel(b *testing.B) {
	srv := startRawServer(b, jsonResponse)
	req := &Request{URL: srv.url()}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		c := New(DefaultConfig())
		defer c.CloseIdle()
		var resp Response
		ctx := context.Background()
		for pb.Next() {
			if err := c.Do(ctx, req, &resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkNetHTTPGetParallel is the net/http counterpart.
func BenchmarkNetHTTPGetParallel(b *testing.B) {
	srv := startRawServer(b, jsonResponse)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := srv.url()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := hc.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}

// BenchmarkTarget loads an external server, as wrk would, with 50
// goroutines each owning a Client: HTTPC_BENCH_URL=http://127.0.0.1:18088/
// go test -bench Target -run X. 1e9/(ns/op) is the achieved requests/s.
func BenchmarkTarget(b *testing.B) {
	url := os.Getenv("HTTPC_BENCH_URL")
	if url == "" {
		b.Skip("HTTPC_BENCH_URL not set")
	}
	req := &Request{URL: url}
	b.ReportAllocs()
	b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		c := New(Config{DiscardBody: true})
		defer c.CloseIdle()
		var resp Response
		ctx := context.Background()
		for pb.Next() {
			if err := c.Do(ctx, req, &resp); err != nil || resp.Status != 200 {
				b.Fatalf("%d %v", resp.Status, err)
			}
		}
	})
}
