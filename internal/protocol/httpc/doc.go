// Package httpc is the HTTP client of the load engine: one Client per
// virtual user, built so that a keep-alive GET costs no allocation and no
// channel send, the way wrk's C loop costs none.
//
// # Why not net/http on the hot path
//
// net/http is a general client: every RoundTrip allocates a Request, a
// Response, header maps, a body reader and its buffers, hands the request to
// a persistConn goroutine over a channel and waits for the answer on another.
// On loopback that is about three times the CPU per request of a C tool,
// which is why hey and vegeta reach a third of wrk's requests/s on the same
// machine (see BENCHMARKS.md). A load generator that spends its CPU on its
// own bookkeeping measures itself, not the server.
//
// httpc keeps the HTTP/1.1 path on the caller's goroutine, over a plain
// net.Conn (or a *tls.Conn):
//
//   - A Request is serialized once (request line, Host, user headers,
//     Content-Length) into a Target that is cached inside the Request and
//     shared by every Client that sends it. Per-client additions (User-Agent,
//     Accept-Encoding, the Cookie line when the jar holds cookies) are written
//     after it into a per-connection buffer; the request goes out in one
//     write.
//   - The status line and headers are read with bufio.Reader.ReadSlice and
//     parsed in place; only the few headers the client acts on
//     (Content-Length, Transfer-Encoding, Connection, Content-Encoding,
//     Location, Set-Cookie) are looked at. The raw header bytes are copied
//     into a buffer owned by the Response, and Response.Header builds an
//     http.Header from them only when someone asks.
//   - Bodies (Content-Length, chunked, or until close) are read into a
//     buffer owned by the Response and reused by the next Do, or discarded
//     while counting. A kept body is capped at Config.MaxBodyBytes: beyond it
//     the body is truncated, the connection dropped and Response.Err says so,
//     so memory stays bounded whatever the server sends.
//   - Deadlines are set on the connection (SetDeadline), not with timers or
//     goroutines; a cancellable context is watched with one
//     context.AfterFunc per connection and context, not per request.
//   - Idle connections wait in a small per-host pool inside the Client, so a
//     VU's requests reuse its own connections and several concurrent
//     requests from one VU (k6's http.batch) each get their own.
//
// Everything that is rare stays simple and may allocate: dialing, DNS, TLS
// handshakes, redirects, cookies, gzip and deflate decoding, and HTTP/2.
// When TLS ALPN negotiates h2 (or Config.H2C asks for cleartext HTTP/2 with
// prior knowledge) the connection is handed to a golang.org/x/net/http2
// ClientConn, which multiplexes the VU's requests to that host (a second
// connection opens only when the server's stream limit is reached); timings
// there come from net/http/httptrace. Over TLS, crypto/tls itself allocates
// a little per record read; httpc adds nothing to that.
//
// A request that provably never reached the server is sent again (at most
// twice): a reused keep-alive connection that the server had closed while
// idle, an HTTP/2 connection that was full or gone, a refused stream.
//
// Note: waiting for readability before the first read after a write (via
// syscall.RawConn) would save the read that returns EAGAIN, one syscall per
// request, but a response that lands before the wait is armed is then never
// signalled by the edge-triggered poller, so it was rejected. A
// bufio.Writer per connection was replaced by one buffer and one Write: the
// request leaves in a single syscall and a connection holds 4 KiB less.
//
// # Results
//
// A network failure is a normal outcome of a load test, not an exception:
// Do fills Response.Err and Response.ErrorCode (k6's error codes, see
// codes.go) with Status 0 and returns the same error. HTTP 4xx and 5xx
// responses keep Err nil and set ErrorCode to 1000+status, as k6 does.
// Timings follow k6: Blocked (waiting for a connection, DNS included),
// Connecting, TLSHandshaking, Sending, Waiting, Receiving, and Duration =
// Sending+Waiting+Receiving. Blocked is zero when an idle connection was
// in hand at once (taking it counts as Sending), and Receiving runs from
// the first response byte to the read that brought the last one, so a
// response that arrived whole with its first byte has Receiving zero:
// neither is worth a clock read per request. Across redirects each phase is summed over the
// hops, unless Config.OnRedirect takes each hop as its own sample.
package httpc
