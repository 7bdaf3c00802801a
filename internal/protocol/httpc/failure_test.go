package httpc

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections and reads, but never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				<-done
				c.Close()
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// resetServer reads a request and answers with a TCP reset.
func resetServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func TestFailures(t *testing.T) {
	refused := closedPort(t)
	silent := silentServer(t)
	tests := []struct {
		name    string
		url     string
		cfg     Config
		timeout time.Duration
		header  http.Header
		code    int
		alts    []int // other acceptable codes, where the environment decides

		msg []string // substrings of the error message
	}{
		{name: "connection refused", url: "http://" + refused + "/x", code: CodeDialRefused,
			msg: []string{"GET http://" + refused + "/x", refused, "connection refused"}},
		{name: "no scheme", url: "127.0.0.1:8000/api", code: CodeInvalidURL, msg: []string{`invalid URL "127.0.0.1:8000/api"`}},
		{name: "ftp scheme", url: "ftp://example.com/", code: CodeInvalidURL, msg: []string{"scheme must be http or https"}},
		{name: "no host", url: "http:///path", code: CodeInvalidURL, msg: []string{"no host"}},
		{name: "bad escape", url: "http://h/%zz", code: CodeInvalidURL, msg: []string{"invalid URL"}},
		{name: "header injection", url: "http://127.0.0.1/", header: map[string][]string{"X": {"1\r\nEvil: 2"}}, code: CodeGeneric,
			msg: []string{`invalid value for header "X": contains a line break`}},
		// Without a reachable DNS server the lookup fails or times out instead.
		{name: "unknown host", url: "http://surge-no-such-host.invalid/", timeout: 3 * time.Second,
			code: CodeDNSNoIP, alts: []int{CodeDNS, CodeTimeout},
			msg: []string{"lookup surge-no-such-host.invalid"}},
		{name: "connection reset", url: resetServer(t), code: CodeReset, msg: []string{"connection reset by peer"}},
		{name: "server never answers", url: silent, timeout: 150 * time.Millisecond, code: CodeTimeout,
			msg: []string{"request timed out after 150ms"}},
		{name: "closes mid-body", url: startOneShotServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"),
			code: CodeGeneric, msg: []string{"server closed the connection after 3 of 100 body bytes"}},
		{name: "closes mid-headers", url: startOneShotServer(t, "HTTP/1.1 200 OK\r\nContent-Le"),
			code: CodeGeneric, msg: []string{"reading response headers: server closed the connection"}},
		{name: "closes without answer", url: startOneShotServer(t, ""),
			code: CodeGeneric, msg: []string{"server closed the connection without sending a response"}},
		{name: "garbage status line", url: startOneShotServer(t, "SSH-2.0-OpenSSH_9.2\r\n\r\n"),
			code: CodeGeneric, msg: []string{`malformed status line "SSH-2.0-OpenSSH_9.2"`}},
		{name: "non-numeric status", url: startOneShotServer(t, "HTTP/1.1 2x0 OK\r\n\r\n"),
			code: CodeGeneric, msg: []string{`malformed status line "HTTP/1.1 2x0 OK"`}},
		{name: "lying content-length", url: startOneShotServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n0123456789"),
			cfg: Config{MaxBodyBytes: 1 << 62}, code: CodeGeneric, msg: []string{"after 10 of 1000000000000000 body bytes"}},
		{name: "bad content-length", url: startOneShotServer(t, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
			code: CodeGeneric, msg: []string{`invalid Content-Length "-1"`}},
		{name: "https to a plain server", url: strings.Replace(startOneShotServer(t, "HTTP/1.1 400 Bad\r\n\r\n"), "http:", "https:", 1),
			code: CodeTLS, msg: []string{"tls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.cfg)
			defer c.CloseIdle()
			var resp Response
			start := time.Now()
			err := c.Do(context.Background(), &Request{URL: tt.url, Timeout: tt.timeout, Header: tt.header}, &resp)
			if err == nil {
				t.Fatalf("no error; status %d", resp.Status)
			}
			if slices.Contains(tt.alts, resp.ErrorCode) {
				resp.ErrorCode = tt.code
			}
			if err != resp.Err || resp.Status != 0 || resp.ErrorCode != tt.code {
				t.Errorf("Err %v, Status %d, ErrorCode %d; want the returned error, 0, %d", resp.Err, resp.Status, resp.ErrorCode, tt.code)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
			if tt.timeout > 0 && time.Since(start) > tt.timeout+time.Second {
				t.Errorf("took %v with a %v timeout", time.Since(start), tt.timeout)
			}
		})
	}
}

func TestContextCancelAbortsARequest(t *testing.T) {
	url := silentServer(t)
	c := New(Config{})
	defer c.CloseIdle()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var resp Response
	start := time.Now()
	err := c.Do(ctx, &Request{URL: url}, &resp)
	if err == nil || !strings.Contains(err.Error(), "context canceled") || resp.ErrorCode != CodeGeneric {
		t.Errorf("err %v, code %d; want context canceled and %d", err, resp.ErrorCode, CodeGeneric)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	// The client stays usable with a fresh context.
	srv := startRawServer(t, jsonResponse)
	if err := c.Do(context.Background(), &Request{URL: srv.url()}, &resp); err != nil || resp.Status != 200 {
		t.Errorf("after cancel: %d %v", resp.Status, err)
	}
}

// TestContextCancelReachesIdleConnection: a connection watched for one
// context and then reused with another must not be killed by the first.
func TestContextSwitchKeepsConnection(t *testing.T) {
	srv := startRawServer(t, jsonResponse)
	c := New(Config{})
	defer c.CloseIdle()
	var resp Response
	req := &Request{URL: srv.url()}
	for i := range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		if err := c.Do(ctx, req, &resp); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		cancel()
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
}

func TestBodyLargerThanMaxIsCapped(t *testing.T) {
	const size, max = 32 << 20, 1 << 20
	chunk := make([]byte, 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fixed" {
			w.Header().Set("Content-Length", "33554432")
		}
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	for _, path := range []string{"/fixed", "/chunked"} {
		t.Run(path, func(t *testing.T) {
			c := New(Config{MaxBodyBytes: max})
			defer c.CloseIdle()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var resp Response
			err := c.Do(context.Background(), &Request{URL: srv.URL + path}, &resp)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "MaxBodyBytes 1048576; body truncated") {
				t.Fatalf("err %v, want a MaxBodyBytes error", err)
			}
			if resp.Status != 200 || len(resp.Body) != max || resp.ErrorCode != CodeGeneric {
				t.Errorf("status %d, %d body bytes, code %d; want 200, %d, %d", resp.Status, len(resp.Body), resp.ErrorCode, max, CodeGeneric)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 4*max {
				t.Errorf("allocated %d bytes for a body capped at %d", grown, max)
			}
		})
	}
}
