package httpc

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// do sends one request with a fresh Response and fails the test on a
// transport error.
func do(t *testing.T, c *Client, req *Request) *Response {
	t.Helper()
	var resp Response
	if err := c.Do(context.Background(), req, &resp); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return &resp
}

// countConns makes srv count the connections it accepts.
func countConns(srv *httptest.Server) *atomic.Int64 {
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func TestKeepAliveReusesOneConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("n"))
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := New(DefaultConfig())
	defer c.CloseIdle()
	for i := range 20 {
		resp := do(t, c, &Request{URL: fmt.Sprintf("%s/?n=%d", srv.URL, i)})
		if want := fmt.Sprintf("hello %d", i); resp.Status != 200 || string(resp.Body) != want || resp.Proto != "HTTP/1.1" {
			t.Fatalf("request %d: %d %s %q, want 200 HTTP/1.1 %q", i, resp.Status, resp.Proto, resp.Body, want)
		}
		if i > 0 && resp.Timings.Connecting != 0 {
			t.Errorf("request %d: Connecting %v on a reused connection", i, resp.Timings.Connecting)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
}

func TestRequestHeadersAndBodyReachServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s ua=%q x=%q ct=%q len=%d body=%s", r.Method, r.URL.RequestURI(),
			r.UserAgent(), r.Header.Values("X-Test"), r.Header.Get("Content-Type"), r.ContentLength, body)
	}))
	defer srv.Close()
	bigBody := strings.Repeat("b", maxInlineBody+10)
	tests := []struct {
		name string
		cfg  Config
		req  *Request
		want string
	}{
		{"get", Config{}, &Request{URL: srv.URL + "/p?q=1"},
			`GET /p?q=1 ua="surge" x=[] ct="" len=0 body=`},
		{"post json", Config{UserAgent: "surge/test"}, &Request{Method: "POST", URL: srv.URL + "/items",
			Header: http.Header{"Content-Type": {"application/json"}, "X-Test": {"a", "b"}}, Body: []byte(`{"a":1}`)},
			`POST /items ua="surge/test" x=["a" "b"] ct="application/json" len=7 body={"a":1}`},
		{"own user agent", Config{}, &Request{URL: srv.URL, Header: http.Header{"User-Agent": {"mine"}}},
			`GET / ua="mine" x=[] ct="" len=0 body=`},
		{"empty post", Config{}, &Request{Method: "POST", URL: srv.URL},
			`POST / ua="surge" x=[] ct="" len=0 body=`},
		{"large body", Config{}, &Request{Method: "PUT", URL: srv.URL, Body: []byte(bigBody)},
			fmt.Sprintf(`PUT / ua="surge" x=[] ct="" len=%d body=%s`, len(bigBody), bigBody)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.cfg)
			defer c.CloseIdle()
			resp := do(t, c, tt.req)
			if string(resp.Body) != tt.want {
				t.Errorf("server saw\n%s\nwant\n%s", clip(resp.Body), clip([]byte(tt.want)))
			}
		})
	}
}

func TestResponseHeaderParsedOnDemand(t *testing.T) {
	srv := startRawServer(t, "HTTP/1.1 201 Created\r\nX-One: 1\r\nx-multi: a\r\nX-Multi:  b \r\nContent-Length: 2\r\n\r\nok")
	c := New(Config{})
	defer c.CloseIdle()
	resp := do(t, c, &Request{URL: srv.url()})
	h := resp.Header()
	if resp.Status != 201 || h.Get("X-One") != "1" || strings.Join(h.Values("X-Multi"), ",") != "a,b" || h.Get("Content-Length") != "2" {
		t.Errorf("status %d, header %v", resp.Status, h)
	}
	if want := int64(len("HTTP/1.1 201 Created\r\nX-One: 1\r\nx-multi: a\r\nX-Multi:  b \r\nContent-Length: 2\r\n\r\nok")); resp.BytesReceived != want {
		t.Errorf("BytesReceived %d, want %d", resp.BytesReceived, want)
	}
	if resp.BytesSent < int64(len("GET /api/items HTTP/1.1\r\nHost: \r\n\r\n")) {
		t.Errorf("BytesSent %d is too small", resp.BytesSent)
	}
}

func TestTimingsAddUp(t *testing.T) {
	const delay = 50 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		w.Write([]byte("done"))
	}))
	defer srv.Close()
	c := New(Config{})
	defer c.CloseIdle()
	tm := do(t, c, &Request{URL: srv.URL}).Timings
	if tm.Duration != tm.Sending+tm.Waiting+tm.Receiving {
		t.Errorf("Duration %v != sending+waiting+receiving %v", tm.Duration, tm.Sending+tm.Waiting+tm.Receiving)
	}
	if tm.Waiting < delay {
		t.Errorf("Waiting %v, want at least the server's %v", tm.Waiting, delay)
	}
	if tm.Connecting <= 0 {
		t.Errorf("Connecting %v on a new connection, want > 0", tm.Connecting)
	}
}

func TestNoBodyResponsesKeepTheConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		}
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := New(Config{})
	defer c.CloseIdle()
	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"HEAD", "/", 200, ""},
		{"GET", "/204", 204, ""},
		{"GET", "/304", 304, ""},
		{"GET", "/", 200, "hello"},
	} {
		resp := do(t, c, &Request{Method: tt.method, URL: srv.URL + tt.path})
		if resp.Status != tt.status || string(resp.Body) != tt.body {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, resp.Status, resp.Body, tt.status, tt.body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
}

func TestConnectionCloseIsHonored(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye"))
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := New(Config{})
	defer c.CloseIdle()
	for range 3 {
		if resp := do(t, c, &Request{URL: srv.URL}); string(resp.Body) != "bye" {
			t.Fatalf("body %q", resp.Body)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("server saw %d connections, want 3 (one per request)", n)
	}
}

// TestIdleConnectionClosedByServerIsRetried covers a server that drops
// keep-alive connections without saying so: the next request must not fail.
func TestIdleConnectionClosedByServerIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			c.Close()
		}
	}()
	c := New(Config{})
	defer c.CloseIdle()
	for i := range 3 {
		if resp := do(t, c, &Request{URL: "http://" + ln.Addr().String()}); string(resp.Body) != "ok" {
			t.Fatalf("request %d: body %q", i, resp.Body)
		}
	}
}

func TestStatusCodesAreNotErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &code)
		w.WriteHeader(code)
	}))
	defer srv.Close()
	c := New(Config{})
	defer c.CloseIdle()
	for _, tt := range []struct{ status, code int }{{200, 0}, {302, 0}, {404, 1404}, {503, 1503}} {
		resp := do(t, c, &Request{URL: fmt.Sprintf("%s/%d", srv.URL, tt.status)})
		if resp.Status != tt.status || resp.ErrorCode != tt.code || resp.Err != nil {
			t.Errorf("%d: status %d, ErrorCode %d, Err %v; want ErrorCode %d and no error", tt.status, resp.Status, resp.ErrorCode, resp.Err, tt.code)
		}
	}
}

func TestConcurrentRequestsOnOneClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.URL.Query().Get("v")))
	}))
	defer srv.Close()
	c := New(DefaultConfig())
	defer c.CloseIdle()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var resp Response
			for i := range 25 {
				want := fmt.Sprintf("%d-%d", g, i)
				if err := c.Do(context.Background(), &Request{URL: srv.URL + "/?v=" + want}, &resp); err != nil || string(resp.Body) != want {
					errs <- fmt.Errorf("goroutine %d request %d: %q, %v", g, i, resp.Body, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDiscardBodyCountsBytes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.Write(bytes.Repeat([]byte("x"), 3000))
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte("y"), 3000))
			return
		}
		w.Header().Set("Content-Length", "100000")
		w.Write(bytes.Repeat([]byte("z"), 100000))
	}))
	defer srv.Close()
	c := New(Config{DiscardBody: true, MaxBodyBytes: 10})
	defer c.CloseIdle()
	for _, path := range []string{"/fixed", "/chunked", "/fixed"} {
		resp := do(t, c, &Request{URL: srv.URL + path})
		if len(resp.Body) != 0 || resp.BytesReceived < 6000 {
			t.Errorf("%s: kept %d bytes, received %d; want 0 kept and the body counted", path, len(resp.Body), resp.BytesReceived)
		}
	}
}

func TestGzipAndDeflateAreDecoded(t *testing.T) {
	const text = "the quick brown fox jumps over the lazy dog, again and again and again"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ae := r.Header.Get("Accept-Encoding")
		if !strings.Contains(ae, "gzip") || !strings.Contains(ae, "deflate") {
			http.Error(w, "no Accept-Encoding: "+ae, 400)
			return
		}
		var buf bytes.Buffer
		switch r.URL.Path {
		case "/gzip":
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte(text))
			zw.Close()
			w.Header().Set("Content-Encoding", "gzip")
		case "/deflate":
			zw := zlib.NewWriter(&buf)
			zw.Write([]byte(text))
			zw.Close()
			w.Header().Set("Content-Encoding", "deflate")
		case "/bomb":
			zw := gzip.NewWriter(&buf)
			zw.Write(make([]byte, 1<<20))
			zw.Close()
			w.Header().Set("Content-Encoding", "gzip")
		case "/broken":
			buf.WriteString("not gzip at all")
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Write(buf.Bytes())
	}))
	defer srv.Close()
	c := New(Config{Gzip: true, MaxBodyBytes: 64 << 10})
	defer c.CloseIdle()
	for _, path := range []string{"/gzip", "/deflate", "/gzip"} {
		if resp := do(t, c, &Request{URL: srv.URL + path}); string(resp.Body) != text {
			t.Errorf("%s: body %q, want %q", path, resp.Body, text)
		}
	}
	var resp Response
	err := c.Do(context.Background(), &Request{URL: srv.URL + "/bomb"}, &resp)
	if !errors.Is(err, errBodyTooLarge) || len(resp.Body) != 64<<10 {
		t.Errorf("gzip bomb: err %v, body %d bytes; want a MaxBodyBytes error and 64 KiB", err, len(resp.Body))
	}
	err = c.Do(context.Background(), &Request{URL: srv.URL + "/broken"}, &resp)
	if resp.ErrorCode != CodeDecompression || err == nil || !strings.Contains(err.Error(), "decoding gzip body") {
		t.Errorf("broken gzip: code %d, err %v; want %d", resp.ErrorCode, err, CodeDecompression)
	}
}

func TestChunkedBodies(t *testing.T) {
	tests := []struct {
		name, raw, body, err string
	}{
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", ""},
		{"extension and trailer", "5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n", "hello", ""},
		{"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", ""},
		{"bad size", "zz\r\nhello\r\n0\r\n\r\n", "", "malformed chunk size"},
		{"chunk longer than size", "2\r\nhello\r\n0\r\n\r\n", "", "longer than its size"},
		{"closed mid-chunk", "10\r\nhel", "", "server closed the connection after 3 of 16 body bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startOneShotServer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+tt.raw)
			c := New(Config{})
			defer c.CloseIdle()
			var resp Response
			err := c.Do(context.Background(), &Request{URL: srv}, &resp)
			if tt.err == "" {
				if err != nil || string(resp.Body) != tt.body {
					t.Errorf("body %q, err %v; want %q", resp.Body, err, tt.body)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want one containing %q", err, tt.err)
			}
		})
	}
}

// startOneShotServer answers each connection's first request with raw and
// closes it.
func startOneShotServer(t *testing.T, raw string) string {
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
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Write([]byte(raw))
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// TestReceivingAndBlocked: receiving runs from the first response byte to
// the read that brought the last one (a body sent 40 ms after the head
// takes at least 40 ms to receive; a response written in one piece takes
// none), and a request on an idle keep-alive connection was not blocked.
func TestReceivingAndBlocked(t *testing.T) {
	const gap = 40 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/split" {
			w.Header().Set("Content-Length", "4")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			time.Sleep(gap)
		}
		w.Write([]byte("done"))
	}))
	defer srv.Close()
	c := New(Config{})
	defer c.CloseIdle()
	split := do(t, c, &Request{URL: srv.URL + "/split"}).Timings
	if split.Receiving < gap {
		t.Errorf("Receiving %v for a body sent %v after the head, want at least that", split.Receiving, gap)
	}
	if split.Duration != split.Sending+split.Waiting+split.Receiving {
		t.Errorf("Duration %v != sending+waiting+receiving", split.Duration)
	}
	raw := startRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	do(t, c, &Request{URL: raw.url()}) // dials
	whole := do(t, c, &Request{URL: raw.url()}).Timings
	if whole.Blocked != 0 || whole.Connecting != 0 {
		t.Errorf("Blocked %v, Connecting %v on an idle keep-alive connection, want 0", whole.Blocked, whole.Connecting)
	}
	if whole.Receiving != 0 {
		t.Errorf("Receiving %v for a response written in one piece, want 0", whole.Receiving)
	}
	if whole.Waiting <= 0 || whole.Duration != whole.Sending+whole.Waiting {
		t.Errorf("Waiting %v, Duration %v, Sending %v", whole.Waiting, whole.Duration, whole.Sending)
	}
}
