package httpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// h2Trace records, through httptrace, when the request was written and
// when the first response byte came; the callbacks run on the HTTP/2
// transport's goroutines, hence the atomics.
type h2Trace struct {
	wrote, first atomic.Int64 // UnixNano
}

func (tr *h2Trace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { tr.wrote.Store(time.Now().UnixNano()) },
		GotFirstResponseByte: func() { tr.first.Store(time.Now().UnixNano()) },
	}
}

// roundTripH2 sends t over the HTTP/2 connection h. retry is true when the
// request never went out (the connection was full or had just died).
func (c *Client) roundTripH2(ctx context.Context, h *h2Conn, t *Target, deadline time.Time, resp *Response, tm *Timings) (retry bool, err error) {
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var tr h2Trace
	hreq := c.h2Request(httptrace.WithClientTrace(rctx, tr.clientTrace()), t)
	ts := time.Now()
	hres, err := h.cc.RoundTrip(hreq)
	if err != nil {
		rerr := h.nc.readErr()
		c.dropH2(t.key, h)
		if rerr != nil && !errors.Is(err, rerr) {
			err = fmt.Errorf("%w: %w", err, rerr)
		}
		return (tr.wrote.Load() == 0 || refused(err)) && ctx.Err() == nil && rerr == nil, err
	}
	defer hres.Body.Close()
	resp.Status, resp.Proto = hres.StatusCode, "HTTP/2.0"
	resp.header = hres.Header
	if loc := hres.Header.Get("Location"); loc != "" {
		resp.location = append(resp.location[:0], loc...)
	}
	resp.setCookie = len(hres.Header["Set-Cookie"]) > 0
	err = c.readH2Body(hres.Body, resp)
	end := time.Now()
	splitH2Timings(tm, ts, tr.wrote.Load(), tr.first.Load(), end)
	resp.BytesSent += int64(len(t.head) + len(t.body))
	resp.BytesReceived += headerSize(hres.Header) + int64(len(resp.Body))
	return false, err
}

// h2Request builds the net/http request for t with the client's headers
// and cookies. The HTTP/2 transport adds and decodes gzip itself when
// Config.Gzip is on.
func (c *Client) h2Request(ctx context.Context, t *Target) *http.Request {
	h := t.header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	for k := range h {
		if http.CanonicalHeaderKey(k) == "Host" { // it travels as :authority
			delete(h, k)
		}
	}
	if !t.hasUA {
		h.Set("User-Agent", c.cfg.UserAgent)
	}
	hreq := &http.Request{
		Method:        t.Method,
		URL:           t.URL,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        h,
		Host:          t.hostHdr,
		ContentLength: int64(len(t.body)),
	}
	if len(t.body) > 0 {
		hreq.Body = io.NopCloser(bytes.NewReader(t.body))
		hreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(t.body)), nil }
	}
	if c.jar != nil && c.hasCookies.Load() {
		for _, ck := range c.jar.Cookies(t.URL) {
			hreq.AddCookie(ck)
		}
	}
	return hreq.WithContext(ctx)
}

func (c *Client) readH2Body(body io.Reader, resp *Response) error {
	if c.cfg.DiscardBody {
		_, err := io.Copy(io.Discard, body)
		return err
	}
	var err error
	resp.bodyBuf, err = readCapped(body, resp.bodyBuf[:0], c.cfg.MaxBodyBytes)
	resp.Body = resp.bodyBuf
	return err
}

// splitH2Timings fills Sending, Waiting and Receiving from the trace
// marks, falling back to the whole time as Waiting when a mark is missing.
func splitH2Timings(tm *Timings, start time.Time, wrote, first int64, end time.Time) {
	if wrote == 0 || first == 0 || first < wrote {
		tm.Waiting = end.Sub(start)
		return
	}
	w, f := time.Unix(0, wrote), time.Unix(0, first)
	tm.Sending = max(w.Sub(start), 0)
	tm.Waiting = f.Sub(w)
	tm.Receiving = max(end.Sub(f), 0)
}

// dropH2 forgets an HTTP/2 connection that can no longer take requests
// (closed, or going away); its streams in flight finish undisturbed.
func (c *Client) dropH2(key string, h *h2Conn) {
	st := h.cc.State()
	if !st.Closed && !st.Closing && h.cc.CanTakeNewRequest() {
		return
	}
	if st.Closed || st.Closing {
		c.mu.Lock()
		if hp := c.hosts[key]; hp != nil {
			hp.h2 = slices.DeleteFunc(hp.h2, func(x *h2Conn) bool { return x == h })
		}
		c.mu.Unlock()
	}
	if st.StreamsActive == 0 {
		_ = h.cc.Close()
	}
}

// headerSize estimates the bytes of a header block as HTTP/1.1 would send
// it; HTTP/2 compresses headers, so this is an upper bound.
func headerSize(h http.Header) int64 {
	n := int64(len("HTTP/2.0 200 OK\r\n\r\n"))
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n
}

// refused reports a stream the server refused before processing it
// (REFUSED_STREAM), which is safe to send again.
func refused(err error) bool {
	var se http2.StreamError
	return errors.As(err, &se) && se.Code == http2.ErrCodeRefusedStream
}
