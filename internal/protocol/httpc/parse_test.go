package httpc

import (
	"net/http"
	"testing"
)

func TestParseStatusLine(t *testing.T) {
	tests := []struct {
		line   string
		proto  string
		status int
		ok     bool
	}{
		{"HTTP/1.1 200 OK\r\n", "HTTP/1.1", 200, true},
		{"HTTP/1.0 404 Not Found\r\n", "HTTP/1.0", 404, true},
		{"HTTP/1.1 204\r\n", "HTTP/1.1", 204, true},
		{"HTTP/1.1 200 OK\n", "HTTP/1.1", 200, true},
		{"HTTP/2.0 200 OK\r\n", "", 0, false},
		{"HTTP/1.1 20 OK\r\n", "", 0, false},
		{"HTTP/1.1 2000 OK\r\n", "", 0, false},
		{"HTTP/1.1 099 Low\r\n", "", 0, false},
		{"ICY 200 OK\r\n", "", 0, false},
		{"\r\n", "", 0, false},
	}
	for _, tt := range tests {
		proto, status, ok := parseStatusLine([]byte(tt.line))
		if proto != tt.proto || status != tt.status || ok != tt.ok {
			t.Errorf("parseStatusLine(%q) = %q, %d, %v; want %q, %d, %v", tt.line, proto, status, ok, tt.proto, tt.status, tt.ok)
		}
	}
}

func TestParseChunkSize(t *testing.T) {
	tests := []struct {
		line string
		n    int64
		ok   bool
	}{
		{"0\r\n", 0, true},
		{"1a\r\n", 26, true},
		{"FF;name=value\r\n", 255, true},
		{"10 \r\n", 16, true},
		{"\r\n", 0, false},
		{"g\r\n", 0, false},
		{"-1\r\n", 0, false},
		{"1000000000000000\r\n", 0, false}, // 16 hex digits: would overflow
	}
	for _, tt := range tests {
		n, ok := parseChunkSize([]byte(tt.line))
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseChunkSize(%q) = %d, %v; want %d, %v", tt.line, n, ok, tt.n, tt.ok)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"32", 32, true}, {"123456789012345678", 123456789012345678, true},
		{"", 0, false}, {"-1", 0, false}, {"1e3", 0, false}, {"1234567890123456789", 0, false},
	}
	for _, tt := range tests {
		n, ok := parseDecimal([]byte(tt.in))
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseDecimal(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.n, tt.ok)
		}
	}
}

func TestNewTargetSerializes(t *testing.T) {
	tests := []struct {
		name, method, url string
		header            http.Header
		body              string
		want              string
	}{
		{"get", "", "http://example.com/a?b=c", nil, "",
			"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n"},
		{"port kept in Host", "GET", "http://127.0.0.1:8080", nil, "",
			"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"},
		{"sorted headers, body length", "POST", "https://h.test/items",
			http.Header{"X-B": {"2"}, "Content-Type": {"application/json"}, "Content-Length": {"999"}}, `{"a":1}`,
			"POST /items HTTP/1.1\r\nHost: h.test\r\nContent-Type: application/json\r\nX-B: 2\r\nContent-Length: 7\r\n"},
		{"Host override", "GET", "http://10.0.0.1/", http.Header{"Host": {"api.test"}}, "",
			"GET / HTTP/1.1\r\nHost: api.test\r\n"},
		{"Host override, any case", "GET", "http://10.0.0.1/", http.Header{"host": {"api.test"}}, "",
			"GET / HTTP/1.1\r\nHost: api.test\r\n"},
		{"IPv6", "DELETE", "http://[::1]:9000/x", nil, "",
			"DELETE /x HTTP/1.1\r\nHost: [::1]:9000\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := NewTarget(tt.method, tt.url, tt.header, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(tg.head) != tt.want {
				t.Errorf("head\n%q\nwant\n%q", tg.head, tt.want)
			}
		})
	}
}

func TestNewTargetRejects(t *testing.T) {
	tests := []struct {
		name, method, url string
		header            http.Header
		want              string
	}{
		{"method with space", "GE T", "http://h/", nil, `invalid HTTP method "GE T"`},
		{"header injection", "GET", "http://h/", http.Header{"X": {"a\r\nEvil: 1"}}, `invalid value for header "X": contains a line break`},
		{"bad header name", "GET", "http://h/", http.Header{"X Y": {"1"}}, `invalid header name "X Y"`},
		{"relative URL", "GET", "/path", nil, `invalid URL "/path": scheme must be http or https`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTarget(tt.method, tt.url, tt.header, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestClassifyHTTP2Codes(t *testing.T) {
	if got := h2Specific(CodeHTTP2Stream, 0x8); got != 1639 { // CANCEL
		t.Errorf("stream CANCEL: %d, want 1639", got)
	}
	if got := h2Specific(CodeHTTP2GoAway, 0x0); got != 1611 { // NO_ERROR
		t.Errorf("GOAWAY NO_ERROR: %d, want 1611", got)
	}
	if got := h2Specific(CodeHTTP2Connection, 0xff); got != CodeHTTP2Connection {
		t.Errorf("unknown code: %d, want %d", got, CodeHTTP2Connection)
	}
}
