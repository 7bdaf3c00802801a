package httpc

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestResponseFraming covers the ways an HTTP/1.x response ends, each from a
// raw server so the bytes on the wire are exactly the ones under test.
func TestResponseFraming(t *testing.T) {
	long := strings.Repeat("v", 3*connBufferSize)
	tests := []struct {
		name, raw     string
		status        int
		proto, body   string
		header, value string
	}{
		{"100 Continue skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			200, "HTTP/1.1", "ok", "", ""},
		{"HTTP/1.0 read until close", "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nall of it",
			200, "HTTP/1.0", "all of it", "X-A", "1"},
		{"header longer than the read buffer", "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 1\r\n\r\n!",
			200, "HTTP/1.1", "!", "X-Long", long},
		{"bare LF line endings", "HTTP/1.1 201 Created\nContent-Length: 3\nX-B: b\n\nabc",
			201, "HTTP/1.1", "abc", "X-B", "b"},
		{"folded header", "HTTP/1.1 200 OK\r\nX-F: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
			200, "HTTP/1.1", "", "X-F", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{})
			defer c.CloseIdle()
			resp := do(t, c, &Request{URL: startOneShotServer(t, tt.raw)})
			if resp.Status != tt.status || resp.Proto != tt.proto || string(resp.Body) != tt.body {
				t.Errorf("got %d %s %q, want %d %s %q", resp.Status, resp.Proto, clip(resp.Body), tt.status, tt.proto, tt.body)
			}
			if tt.header != "" && resp.Header().Get(tt.header) != tt.value {
				t.Errorf("header %s = %q, want %q", tt.header, clip([]byte(resp.Header().Get(tt.header))), clip([]byte(tt.value)))
			}
		})
	}
}

func TestTimeoutPrecedence(t *testing.T) {
	url := silentServer(t)
	tests := []struct {
		name       string
		cfg        time.Duration
		req        time.Duration
		ctx        time.Duration
		atLeast    time.Duration
		msgContain string
	}{
		{"config timeout", 100 * time.Millisecond, 0, 0, 100 * time.Millisecond, "timed out after 100ms"},
		{"request overrides config", time.Minute, 120 * time.Millisecond, 0, 120 * time.Millisecond, "timed out after 120ms"},
		{"earlier context deadline wins", time.Minute, time.Minute, 80 * time.Millisecond, 80 * time.Millisecond, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{Timeout: tt.cfg})
			defer c.CloseIdle()
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			var resp Response
			start := time.Now()
			err := c.Do(ctx, &Request{URL: url, Timeout: tt.req}, &resp)
			elapsed := time.Since(start)
			if err == nil || resp.ErrorCode != CodeTimeout || !strings.Contains(err.Error(), tt.msgContain) {
				t.Fatalf("code %d, err %v; want %d and %q", resp.ErrorCode, err, CodeTimeout, tt.msgContain)
			}
			if elapsed < tt.atLeast || elapsed > tt.atLeast+2*time.Second {
				t.Errorf("gave up after %v, want about %v", elapsed, tt.atLeast)
			}
		})
	}
}

// TestBufferedHeadMatchesLineByLine holds readHead's two paths to one
// result: a head already whole in the buffer is parsed in place
// (readBufferedHead), one that arrives a byte at a time line by line.
func TestBufferedHeadMatchesLineByLine(t *testing.T) {
	heads := []struct{ name, raw string }{
		{"nginx", nginxResponse},
		{"bare LF", "HTTP/1.1 201 Created\nContent-Length: 3\nX-B: b\n\nabc"},
		{"folded", "HTTP/1.1 200 OK\r\nX-F: a\r\n  b\r\nContent-Length: 0\r\n\r\n"},
		{"chunked, close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\na\r\n0\r\n\r\n"},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx"},
		{"gzip, cookie, location", "HTTP/1.1 302 Found\r\nContent-Encoding: gzip\r\nSet-Cookie: a=b\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"},
		{"empty header block", "HTTP/1.1 204 No Content\r\n\r\n"},
		{"malformed status line", "HTTP/9 200\r\n\r\n"},
		{"malformed header", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"},
		{"bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"},
	}
	type result struct {
		h        head
		status   int
		proto    string
		raw      string
		location string
		encoding encoding
		cookie   bool
		rest     string
		err      string
	}
	parse := func(newReader func() io.Reader, wantFast bool) result {
		br := bufio.NewReaderSize(newReader(), connBufferSize)
		br.Peek(1) // as exchange waits for the first byte
		if _, fast, _ := readBufferedHead(br, &Response{}); fast != wantFast {
			t.Fatalf("readBufferedHead took the head: %v, want %v", fast, wantFast)
		}
		br = bufio.NewReaderSize(newReader(), connBufferSize)
		br.Peek(1)
		var resp Response
		h, err := readHead(br, &resp)
		rest, _ := io.ReadAll(br)
		res := result{h: h, status: resp.Status, proto: resp.Proto, raw: string(resp.rawHeader),
			location: string(resp.location), encoding: resp.encoding, cookie: resp.setCookie, rest: string(rest)}
		if err != nil {
			res = result{err: err.Error()}
		}
		return res
	}
	for _, tt := range heads {
		t.Run(tt.name, func(t *testing.T) {
			whole := parse(func() io.Reader { return strings.NewReader(tt.raw) }, true)
			lines := parse(func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.raw)) }, false)
			if whole != lines {
				t.Errorf("in place:     %+v\nline by line: %+v", whole, lines)
			}
			if whole.err == "" && whole.status == 0 {
				t.Errorf("no status parsed: %+v", whole)
			}
		})
	}
}
