package httpc

import (
	"bytes"
	"net/http"
	"net/textproto"
	"time"
)

// Timings is the k6 breakdown of one request. Duration is
// Sending+Waiting+Receiving; Blocked includes DNS resolution.
type Timings struct {
	Blocked        time.Duration
	Connecting     time.Duration
	TLSHandshaking time.Duration
	Sending        time.Duration
	Waiting        time.Duration
	Receiving      time.Duration
	Duration       time.Duration
}

func (t *Timings) add(o Timings) {
	t.Blocked += o.Blocked
	t.Connecting += o.Connecting
	t.TLSHandshaking += o.TLSHandshaking
	t.Sending += o.Sending
	t.Waiting += o.Waiting
	t.Receiving += o.Receiving
	t.Duration += o.Duration
}

// Response is the outcome of one Do. Its buffers are reused by the next Do
// with the same Response, so Body and the raw headers are valid until then;
// a caller that keeps them copies them. A Response is used by one goroutine
// at a time.
type Response struct {
	Status    int    // 0 when no response arrived
	Proto     string // "HTTP/1.1", "HTTP/1.0", "HTTP/2.0"
	Method    string // of the final request (a 303 turns POST into GET)
	URL       string // the final URL, after redirects
	Body      []byte // empty with Config.DiscardBody
	Timings   Timings
	Start     time.Time // when Do began
	Redirects int       // redirects followed

	// BytesSent and BytesReceived count the bytes on the wire, TLS records
	// and a new connection's handshake included. HTTP/2 multiplexes
	// requests on one connection, so there they are estimated from the
	// headers and body.
	BytesSent     int64
	BytesReceived int64

	Err       error // nil for any HTTP status; *Error for a failed request
	ErrorCode int   // k6 error code: a Code constant, or 1000+status for 4xx and 5xx

	rawHeader   []byte      // header lines as received, CRLF-terminated
	header      http.Header // parsed from rawHeader on demand, or set by HTTP/2
	location    []byte      // Location value of this hop
	setCookie   bool        // a Set-Cookie header arrived
	encoding    encoding    // Content-Encoding of this hop
	bodyBuf     []byte      // backing array of Body
	encodedBody []byte      // scratch for a compressed body
	decoder     decoder
}

// Header returns the response headers, parsed from the raw bytes on the
// first call after each Do.
func (r *Response) Header() http.Header {
	if r.header == nil {
		r.header = parseHeader(r.rawHeader)
	}
	return r.header
}

// parseHeader turns CRLF-terminated header lines into an http.Header.
// Obsolete line folding is joined to the previous value.
func parseHeader(raw []byte) http.Header {
	h := make(http.Header, bytes.Count(raw, []byte{'\n'}))
	var last string
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			vs := h[last]
			vs[len(vs)-1] += " " + string(bytes.TrimSpace(line))
			continue
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		last = textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(k)))
		h[last] = append(h[last], string(bytes.TrimSpace(v)))
	}
	return h
}

// reset prepares r for a new request, keeping its buffers.
func (r *Response) reset() {
	r.Status = 0
	r.Proto = ""
	r.URL, r.Method = "", ""
	r.Body = r.bodyBuf[:0]
	r.Timings = Timings{}
	r.Redirects = 0
	r.BytesSent, r.BytesReceived = 0, 0
	r.Err, r.ErrorCode = nil, 0
	r.resetHop()
}

// resetHop forgets the previous hop's response before the next one is read.
func (r *Response) resetHop() {
	r.Status = 0
	r.Proto = ""
	r.rawHeader = r.rawHeader[:0]
	r.header = nil
	r.location = r.location[:0]
	r.setCookie = false
	r.encoding = encIdentity
	r.Body = r.bodyBuf[:0]
}
