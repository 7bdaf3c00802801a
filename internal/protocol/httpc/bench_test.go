package httpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRequestsAllocateNothing holds the design's promise: a keep-alive
// request of a prepared Request costs no allocation, client and response
// included. Over TLS the only allocations left are crypto/tls's own: it
// allocates a small reader for every record it reads, on the client and on
// the (in-process) server side, which AllocsPerRun counts together; the
// bound is loose because their number follows how the records arrive.
func TestRequestsAllocateNothing(t *testing.T) {
	plain := startRawServer(t, jsonResponse)
	secure := startRawTLSServer(t, jsonResponse)
	tests := []struct {
		name      string
		cfg       Config
		req       *Request
		maxAllocs float64
	}{
		{"GET", DefaultConfig(), &Request{URL: plain.url()}, 0},
		{"POST with headers", DefaultConfig(), &Request{Method: "POST", URL: plain.url(),
			Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer t"}}, Body: []byte(`{"name":"x"}`)}, 0},
		{"discarded body", Config{DiscardBody: true}, &Request{URL: plain.url()}, 0},
		{"GET over TLS", Config{TLS: &tls.Config{InsecureSkipVerify: true}, DisableHTTP2: true}, &Request{URL: secure.url()}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.cfg)
			defer c.CloseIdle()
			var resp Response
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range 3 { // dial, size the buffers
				if err := c.Do(ctx, tt.req, &resp); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(200, func() {
				if err := c.Do(ctx, tt.req, &resp); err != nil || resp.Status != 200 {
					t.Fatalf("Do: status %d, err %v", resp.Status, err)
				}
			})
			if allocs > tt.maxAllocs {
				t.Errorf("%.1f allocations per request, want at most %.0f", allocs, tt.maxAllocs)
			}
		})
	}
	if n := plain.conns.Load(); n != 3 {
		t.Errorf("server saw %d connections for 3 clients, want 3 (keep-alive)", n)
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
	reportCPU(b)
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
	reportCPU(b)
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
	reportCPU(b)
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
	reportCPU(b)
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
	reportCPU(b)
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

// reportCPU reports the process's CPU time (user+system) per operation
// when the benchmark ends: a figure that, unlike ns/op, does not move with
// the load other processes put on the machine. With the in-process raw
// server it includes the server's share, the same for every client.
func reportCPU(b *testing.B) {
	start := cpuTime()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nginxResponse is what nginx answers the peers benchmark (../shared/tools/peers.sh).
const nginxResponse = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 15:20:08 GMT\r\n" +
	"Content-Type: application/json\r\nContent-Length: 32\r\nConnection: keep-alive\r\n\r\n" +
	`[{"id":1,"name":"a","value":42}]`

// BenchmarkReadResponse is the client's parsing of one keep-alive response
// that is already in the connection's buffer, as a loopback response is.
func BenchmarkReadResponse(b *testing.B) {
	c := New(DefaultConfig())
	src := strings.NewReader(nginxResponse)
	br := bufio.NewReaderSize(src, connBufferSize)
	t := &Target{}
	var resp Response
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(nginxResponse)
		br.Reset(src)
		br.Peek(1) // as exchange waits for the first byte
		resp.reset()
		if reuse, err := c.readResponse(br, t, &resp); err != nil || !reuse || resp.Status != 200 || len(resp.bodyBuf) != 32 {
			b.Fatalf("readResponse: reuse %v, status %d, %d body bytes, err %v", reuse, resp.Status, len(resp.bodyBuf), err)
		}
	}
}
