package httpc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/surgeload/surge/internal/clock"
)

// maxInlineBody is the largest request body copied into the request buffer
// so that head and body leave in one write.
const maxInlineBody = 8 << 10

// errNoResponse is a connection closed before any byte of a response.
var errNoResponse = errors.New("server closed the connection without sending a response")

// head is what the client acts on from a response head.
type head struct {
	contentLength int64 // -1: not given
	chunked       bool
	keepAlive     bool
}

// exchange writes t on cn and reads the response into resp; sending
// counts from ts. started reports
// whether any response byte arrived: a reused connection that fails before
// that was most likely closed by the server while idle, and is retried.
func (c *Client) exchange(cn *conn, t *Target, ts time.Time, resp *Response, tm *Timings) (reuse, started bool, err error) {
	b, body := c.appendRequest(cn, t)
	var tw time.Time
	raw := cn.plain && body == nil && cn.br.Buffered() == 0
	if raw {
		cn.raw.sendThenRead(b) // written by the Peek below
	} else {
		if err = writeRest(cn, b, body); err != nil {
			return false, false, err
		}
		tw = clock.Now()
	}
	if _, err = cn.br.Peek(1); err != nil {
		if err == io.EOF {
			err = errNoResponse
		}
		return false, false, err
	}
	if raw {
		tw = cn.raw.sentAt()
	}
	tm.Sending = tw.Sub(ts)
	tf := clock.Now()
	tm.Waiting = tf.Sub(tw)
	nr := cn.raw.nr
	reuse, err = c.readResponse(cn.br, t, resp)
	if cn.raw.nr != nr {
		// receiving ends with the read that brought the last byte; a
		// response that came whole with its first byte took no time to
		// receive (parsing it is the client's time, not the network's)
		tm.Receiving = clock.Since(tf)
	}
	return reuse, true, err
}

// appendRequest serializes the prepared head, the client's own headers,
// the Cookie line and, up to maxInlineBody, the body into cn's buffer, so
// that they leave in one write. It returns a larger body separately.
func (c *Client) appendRequest(cn *conn, t *Target) (b, body []byte) {
	b = append(cn.wbuf[:0], t.head...)
	if !t.hasUA {
		b = append(b, c.uaLine...)
	}
	if c.cfg.Gzip && !t.hasAE {
		b = append(b, acceptEncodingHeader...)
	}
	if c.jar != nil && c.hasCookies.Load() {
		b = c.appendCookieLine(b, t)
	}
	b = append(b, "\r\n"...)
	if len(t.body) <= maxInlineBody {
		b = append(b, t.body...)
	} else {
		body = t.body
	}
	cn.wbuf = b
	return b, body
}

// writeRest writes the request and a large body the ordinary way (TLS,
// HTTP/1.1 over a socket with unread bytes, bodies over maxInlineBody).
func writeRest(cn *conn, b, body []byte) error {
	if len(b) > 0 {
		if _, err := cn.nc.Write(b); err != nil {
			return err
		}
	}
	if body != nil {
		_, err := cn.nc.Write(body)
		return err
	}
	return nil
}

// readResponse reads a status line, headers and body. It skips 1xx
// informational responses other than 101.
func (c *Client) readResponse(br *bufio.Reader, t *Target, resp *Response) (reuse bool, err error) {
	var h head
	for {
		h, err = readHead(br, resp)
		if err != nil {
			return false, err
		}
		if resp.Status >= 200 || resp.Status == http.StatusSwitchingProtocols {
			break
		}
		resp.resetHop()
	}
	if t.expectsNo || resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified {
		return h.keepAlive, nil
	}
	if resp.Status == http.StatusSwitchingProtocols {
		return false, nil
	}
	return c.readBody(br, resp, &h)
}

// readHead parses the status line and headers in place. Header lines are
// appended to resp.rawHeader; only the few the client acts on are decoded.
func readHead(br *bufio.Reader, resp *Response) (head, error) {
	if h, ok, err := readBufferedHead(br, resp); ok {
		return h, err
	}
	h := head{contentLength: -1}
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return h, fmt.Errorf("malformed status line %q", clip(line))
		}
		return h, readErr("reading status line", err)
	}
	proto, status, ok := parseStatusLine(line)
	if !ok {
		return h, fmt.Errorf("malformed status line %q", clip(line))
	}
	resp.Status, resp.Proto = status, proto
	h.keepAlive = proto == "HTTP/1.1"
	for {
		start := len(resp.rawHeader)
		if err := readLine(br, resp); err != nil {
			return h, err
		}
		l := trimEOL(resp.rawHeader[start:])
		if len(l) == 0 {
			resp.rawHeader = resp.rawHeader[:start]
			return h, nil
		}
		if err := interpret(l, &h, resp); err != nil {
			return h, err
		}
	}
}

// readBufferedHead is readHead for a head that is already whole in br's
// buffer, as a loopback response usually is: the lines are found in place
// and appended to resp.rawHeader at once. ok is false, with nothing read,
// when the head's end is not buffered yet (or it is too large): readHead
// then reads it line by line.
func readBufferedHead(br *bufio.Reader, resp *Response) (h head, ok bool, err error) {
	buf, _ := br.Peek(br.Buffered())
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		return h, false, nil
	}
	proto, status, valid := parseStatusLine(buf[:nl+1])
	if !valid {
		return h, true, fmt.Errorf("malformed status line %q", clip(buf[:nl+1]))
	}
	h = head{contentLength: -1, keepAlive: proto == "HTTP/1.1"}
	// one pass over the lines; interpret's effects on resp are redone by
	// readHead if the head turns out not to be whole here
	first := nl + 1
	for i := first; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 || i+j+1-first > maxHeaderBytes-len(resp.rawHeader) {
			return h, false, nil
		}
		j += i
		line := trimEOL(buf[i : j+1])
		if len(line) == 0 {
			resp.Status, resp.Proto = status, proto
			resp.rawHeader = append(resp.rawHeader, buf[first:i]...)
			_, err = br.Discard(j + 1)
			return h, true, err
		}
		if err := interpret(line, &h, resp); err != nil {
			return h, true, err
		}
		i = j + 1
	}
}

// readLine appends one header line, however long, to resp.rawHeader.
func readLine(br *bufio.Reader, resp *Response) error {
	for {
		frag, err := br.ReadSlice('\n')
		resp.rawHeader = append(resp.rawHeader, frag...)
		if len(resp.rawHeader) > maxHeaderBytes {
			return fmt.Errorf("response headers larger than %d bytes", maxHeaderBytes)
		}
		switch err {
		case nil:
			return nil
		case bufio.ErrBufferFull:
			continue
		}
		return readErr("reading response headers", err)
	}
}

// interpret decodes the headers that steer the client.
func interpret(line []byte, h *head, resp *Response) error {
	i := indexByte(line, ':')
	if i <= 0 {
		if line[0] == ' ' || line[0] == '\t' {
			return nil // obsolete folding: kept raw for Header()
		}
		return fmt.Errorf("malformed header line %q", clip(line))
	}
	name, value := line[:i], trimSpace(line[i+1:])
	switch {
	case equalFold(name, "content-length"):
		n, ok := parseDecimal(value)
		if !ok {
			return fmt.Errorf("invalid Content-Length %q", clip(value))
		}
		h.contentLength = n
	case equalFold(name, "transfer-encoding"):
		h.chunked = containsFold(value, "chunked")
	case equalFold(name, "connection"):
		if equalFold(value, "keep-alive") {
			h.keepAlive = true
		} else if containsFold(value, "close") {
			h.keepAlive = false
		} else if containsFold(value, "keep-alive") {
			h.keepAlive = true
		}
	case equalFold(name, "content-encoding"):
		resp.encoding = parseEncoding(value)
	case equalFold(name, "location"):
		resp.location = append(resp.location[:0], value...)
	case equalFold(name, "set-cookie"):
		resp.setCookie = true
	}
	return nil
}

// readBody reads the body framed by h into resp, decoding gzip and deflate
// when the client asked for them.
func (c *Client) readBody(br *bufio.Reader, resp *Response, h *head) (reuse bool, err error) {
	keep := !c.cfg.DiscardBody
	decode := keep && c.cfg.Gzip && (resp.encoding == encGzip || resp.encoding == encDeflate)
	dst := resp.bodyBuf[:0]
	if decode {
		dst = resp.encodedBody[:0]
	}
	max := c.cfg.MaxBodyBytes
	switch {
	case h.chunked:
		dst, err = readChunked(br, dst, keep, max)
	case h.contentLength >= 0:
		dst, err = readFixed(br, dst, h.contentLength, keep, max)
	default:
		dst, err = readUntilClose(br, dst, keep, max)
		h.keepAlive = false
	}
	if decode {
		resp.encodedBody = dst
	} else {
		resp.bodyBuf = dst
	}
	if err == nil && decode {
		resp.bodyBuf, err = resp.decoder.decode(resp.encoding, dst, resp.bodyBuf, max)
		if err != nil && !errors.Is(err, errBodyTooLarge) {
			err = &Error{Code: CodeDecompression, Err: err}
		}
	}
	resp.Body = resp.bodyBuf
	return h.keepAlive && err == nil, err
}

// readFixed reads a Content-Length body.
func readFixed(br *bufio.Reader, dst []byte, n int64, keep bool, max int64) ([]byte, error) {
	if !keep {
		got, err := discard(br, n)
		if err != nil {
			return dst, bodyErr(got, n, err)
		}
		return dst, nil
	}
	want, tooLarge := n, n > max
	if tooLarge {
		want = max
	}
	dst, err := readN(br, dst[:0], int(want))
	if err != nil {
		return dst, bodyErr(int64(len(dst)), n, err)
	}
	if tooLarge {
		return dst, fmt.Errorf("%w: Content-Length %d exceeds MaxBodyBytes %d; body truncated", errBodyTooLarge, n, max)
	}
	return dst, nil
}

// readChunked reads a chunked body and its trailers.
func readChunked(br *bufio.Reader, dst []byte, keep bool, max int64) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return dst, readErr("reading chunk size", err)
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return dst, fmt.Errorf("malformed chunk size line %q", clip(line))
		}
		if size == 0 {
			return dst, skipTrailers(br)
		}
		if dst, err = readChunk(br, dst, size, keep, max); err != nil {
			return dst, err
		}
		line, err = br.ReadSlice('\n')
		if err != nil {
			return dst, readErr("reading chunk end", err)
		}
		if len(trimEOL(line)) != 0 {
			return dst, fmt.Errorf("malformed chunked body: chunk data longer than its size %d", size)
		}
	}
}

func readChunk(br *bufio.Reader, dst []byte, size int64, keep bool, max int64) ([]byte, error) {
	if !keep {
		got, err := discard(br, size)
		if err != nil {
			return dst, bodyErr(got, size, err)
		}
		return dst, nil
	}
	if int64(len(dst))+size > max {
		dst, _ = readN(br, dst, int(max)-len(dst))
		return dst, fmt.Errorf("%w: chunked body exceeds MaxBodyBytes %d; body truncated", errBodyTooLarge, max)
	}
	l := len(dst)
	dst, err := readN(br, dst, int(size))
	if err != nil {
		return dst, bodyErr(int64(len(dst)-l), size, err)
	}
	return dst, nil
}

// growStep bounds how far readN grows a buffer ahead of the bytes that
// actually arrived, so a lying Content-Length cannot reserve memory.
const growStep = 1 << 20

// readN appends exactly n bytes from br to dst.
func readN(br *bufio.Reader, dst []byte, n int) ([]byte, error) {
	for n > 0 {
		step := min(n, growStep)
		l := len(dst)
		dst = grow(dst, l+step)
		got, err := io.ReadFull(br, dst[l:l+step])
		dst = dst[:l+got]
		if err != nil {
			return dst, err
		}
		n -= step
	}
	return dst, nil
}

func skipTrailers(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return readErr("reading chunked trailers", err)
		}
		if err == nil && len(trimEOL(line)) == 0 {
			return nil
		}
	}
}

// readUntilClose reads a body delimited by the end of the connection.
func readUntilClose(br *bufio.Reader, dst []byte, keep bool, max int64) ([]byte, error) {
	if !keep {
		_, err := br.WriteTo(io.Discard)
		return dst, err
	}
	return readCapped(br, dst, max)
}

// discard skips n bytes, returning how many were skipped.
func discard(br *bufio.Reader, n int64) (int64, error) {
	var got int64
	for got < n {
		step := n - got
		if step > 1<<30 {
			step = 1 << 30
		}
		d, err := br.Discard(int(step))
		got += int64(d)
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// grow returns dst with length n, reallocating (at least doubling) only
// when its capacity is too small.
func grow(dst []byte, n int) []byte {
	if n <= cap(dst) {
		return dst[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(dst)))
	copy(nb, dst)
	return nb
}

func bodyErr(got, want int64, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("server closed the connection after %d of %d body bytes: %w", got, want, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("reading response body: %w", err)
}

func readErr(what string, err error) error {
	if err == io.EOF {
		return fmt.Errorf("%s: server closed the connection: %w", what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%s: %w", what, err)
}
