package httpc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Request is one HTTP request as a script or the engine describes it. It is
// serialized into a Target on its first Do and the Target is cached in the
// Request, so a Request must not be modified after it has been sent; it may
// be sent by many Clients at once.
type Request struct {
	Method  string // "" means GET
	URL     string
	Header  http.Header
	Body    []byte
	Timeout time.Duration // 0 means Config.Timeout

	target atomic.Pointer[Target]
}

// Prepare parses and serializes the request once and returns its Target.
// Calling it before a test starts turns a bad URL into an early, clear error.
func (r *Request) Prepare() (*Target, error) {
	if t := r.target.Load(); t != nil {
		return t, nil
	}
	t, err := NewTarget(r.Method, r.URL, r.Header, r.Body)
	if err != nil {
		return nil, err
	}
	r.target.Store(t)
	return t, nil
}

// Target is a request parsed and serialized once: its URL, where to dial,
// and the bytes of its request line and headers.
type Target struct {
	Method string
	URL    *url.URL

	rawURL    string
	https     bool
	hostname  string // for DNS and TLS SNI
	port      string
	addr      string // hostname:port to dial
	key       string // connection pool key
	op        string // "GET http://…", for error messages
	header    http.Header
	hostHdr   string // Host header value (http2: req.Host)
	head      []byte // request line and headers, no final CRLF
	body      []byte
	hasUA     bool
	hasAE     bool
	expectsNo bool // HEAD: no response body
}

// NewTarget parses rawURL and serializes the request. It fails on a URL that
// is not absolute http(s), a bad method, or a header with a line break.
func NewTarget(method, rawURL string, header http.Header, body []byte) (*Target, error) {
	if method == "" {
		method = http.MethodGet
	}
	if !validToken(method) {
		return nil, fmt.Errorf("invalid HTTP method %q", method)
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	t := &Target{Method: method, URL: u, rawURL: rawURL, body: body, header: header}
	t.https = u.Scheme == "https"
	t.hostname = u.Hostname()
	port := u.Port()
	if port == "" {
		port = "80"
		if t.https {
			port = "443"
		}
	}
	t.port = port
	t.addr = net.JoinHostPort(t.hostname, port)
	t.key = u.Scheme + "://" + t.addr
	t.op = method + " " + rawURL
	t.hostHdr = u.Host
	t.expectsNo = method == http.MethodHead
	if err := t.serialize(); err != nil {
		return nil, err
	}
	return t, nil
}

// ErrInvalidURL is wrapped by the error of a URL that is not an absolute
// http or https URL with a host.
var ErrInvalidURL = errors.New("invalid URL")

// parseURL accepts absolute http and https URLs with a host.
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidURL, rawURL, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w %q: scheme must be http or https", ErrInvalidURL, rawURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w %q: no host", ErrInvalidURL, rawURL)
	}
	return u, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// serialize writes the request line and headers. Host, Content-Length and
// Transfer-Encoding are the client's; the others are written sorted so that
// the bytes are the same for the same request.
func (t *Target) serialize() error {
	b := make([]byte, 0, 128)
	b = append(b, t.Method...)
	b = append(b, ' ')
	b = append(b, t.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\n"...)
	for k, vs := range t.header {
		if len(vs) > 0 && vs[0] != "" && http.CanonicalHeaderKey(k) == "Host" {
			t.hostHdr = vs[0]
		}
	}
	b = appendHeader(b, "Host", t.hostHdr)
	keys := make([]string, 0, len(t.header))
	for k := range t.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !validToken(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length", "Transfer-Encoding":
			continue
		case "User-Agent":
			t.hasUA = true
		case "Accept-Encoding":
			t.hasAE = true
		}
		for _, v := range t.header[k] {
			if strings.ContainsAny(v, "\r\n") {
				return fmt.Errorf("invalid value for header %q: contains a line break", k)
			}
			b = appendHeader(b, k, v)
		}
	}
	if len(t.body) > 0 || bodyMethod(t.Method) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(t.body)), 10)
		b = append(b, "\r\n"...)
	}
	t.head = b
	return nil
}

func appendHeader(b []byte, k, v string) []byte {
	b = append(b, k...)
	b = append(b, ": "...)
	b = append(b, v...)
	return append(b, "\r\n"...)
}

func bodyMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// redirect returns the Target for following a redirect with status from t
// to location, with k6's and net/http's semantics: 301, 302 and 303 turn
// anything but GET and HEAD into a body-less GET, 307 and 308 resend the
// same method and body, and credentials are not sent to another host.
func (t *Target) redirect(status int, location string) (*Target, error) {
	ref, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("following redirect: bad Location %q: %w", location, unwrapURLError(err))
	}
	next := t.URL.ResolveReference(ref)
	method, body := t.Method, t.body
	header := t.header.Clone()
	if status != http.StatusTemporaryRedirect && status != http.StatusPermanentRedirect &&
		method != http.MethodGet && method != http.MethodHead {
		method, body = http.MethodGet, nil
		header.Del("Content-Type")
	}
	if next.Host != t.URL.Host {
		header.Del("Authorization")
		header.Del("Cookie")
		header.Del("Host")
	}
	nt, err := NewTarget(method, next.String(), header, body)
	if err != nil {
		return nil, fmt.Errorf("following redirect: %w", err)
	}
	return nt, nil
}
