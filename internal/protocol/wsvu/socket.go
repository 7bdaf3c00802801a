package wsvu

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/threads"
	"github.com/surgeload/surge/internal/vu"
)

// EventKind is a socket event, named as in k6 (socket.on(name, …)).
type EventKind uint8

const (
	Open EventKind = iota
	Message
	BinaryMessage
	Ping
	Pong
	Close
	Error
	numKinds
)

var kindNames = [numKinds]string{"open", "message", "binaryMessage", "ping", "pong", "close", "error"}

func (k EventKind) String() string { return kindNames[k] }

// ParseEvent maps k6's event names to kinds.
func ParseEvent(name string) (EventKind, error) {
	for k, n := range kindNames {
		if n == name {
			return EventKind(k), nil
		}
	}
	return 0, fmt.Errorf("unknown socket event %q (use open, message, binaryMessage, ping, pong, close or error)", name)
}

// Event is one socket event.
type Event struct {
	Socket *Socket // Start mode: the socket the event belongs to
	Kind   EventKind
	Data   []byte // message, binaryMessage; the payload of ping and pong
	Code   int    // close: the close code (1000 normal, 1006 the connection dropped)
	Reason string // close: the peer's reason
	Err    error  // error
}

// Params are connect's options (k6's params).
type Params struct {
	Headers      http.Header
	Subprotocols []string
	Tags         *metrics.TagSet // extra tags, interned by the caller
	Name         string          // the url tag; default the URL
	Timeout      time.Duration   // for the handshake; default 60s
	Compression  bool            // permessage-deflate
	TLS          *tls.Config
	ReadLimit    int64 // largest message read; default 64 MiB
}

// DefaultTimeout bounds the opening handshake.
const DefaultTimeout = 60 * time.Second

// DefaultReadLimit is the largest message read by default.
const DefaultReadLimit = 64 << 20

// Response describes the opening handshake (k6's response of connect).
type Response struct {
	URL         string
	Status      int
	Headers     http.Header
	Subprotocol string
}

// Socket is one WebSocket session of a VU.
type Socket struct {
	st       *vu.State
	conn     *websocket.Conn
	sinks    *sinks
	Response *Response
	start    time.Time
	ctx      context.Context
	cancel   context.CancelFunc
	handlers [numKinds][]func(Event)
	emit     func(Event) // Run: to the loop; Start: to the caller
	events   chan Event
	timers   chan func()
	stopped  chan struct{} // closed when the reader has emitted close

	mu        sync.Mutex
	closing   bool
	closeCode int // the code we closed with
}

// Dial opens a session: the opening handshake, measured in ws_connecting.
// A failed handshake is an error with the reason, and the response when
// the server answered (a 404, a 403 …).
func Dial(ctx context.Context, st *vu.State, rawURL string, p Params) (*Socket, *Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, nil, fmt.Errorf("connecting to %q: want a ws:// or wss:// URL", rawURL)
	}
	s := &Socket{st: st, events: make(chan Event, 64), timers: make(chan func(), 16), stopped: make(chan struct{}),
		emit: func(Event) {}} // until Run or Start: the echo VU reads by itself
	s.ctx, s.cancel = context.WithCancel(ctx)
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	threads.HostPort(hostPort(u))
	s.start = time.Now()
	conn, hr, err := websocket.Dial(hctx, rawURL, s.dialOptions(p))
	took := time.Since(s.start)
	resp := &Response{URL: rawURL}
	if hr != nil {
		resp.Status, resp.Headers = hr.StatusCode, hr.Header
	}
	if err != nil {
		s.cancel()
		st.Registry.Errors.Add("ws", err.Error(), nameOr(p.Name, rawURL))
		return nil, resp, fmt.Errorf("connecting to %s: %w", rawURL, err)
	}
	resp.Subprotocol = conn.Subprotocol()
	limit := p.ReadLimit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	conn.SetReadLimit(limit)
	s.conn, s.Response = conn, resp
	s.sinks = sessionSinks(st, RegisterMetrics(st.Registry), nameOr(p.Name, rawURL), resp.Status, resp.Subprotocol, p.Tags)
	s.sinks.shard.Lock()
	s.sinks.sessions.Add(1)
	s.sinks.connecting.Add(ms(took))
	s.sinks.shard.Unlock()
	return s, resp, nil
}

// dialOptions turns connect's params into coder/websocket's options; pings
// and pongs from the peer become events.
func (s *Socket) dialOptions(p Params) *websocket.DialOptions {
	opts := &websocket.DialOptions{HTTPHeader: p.Headers, Subprotocols: p.Subprotocols,
		OnPingReceived: func(_ context.Context, b []byte) bool {
			s.emit(Event{Kind: Ping, Data: append([]byte(nil), b...)})
			return true
		},
		OnPongReceived: func(_ context.Context, b []byte) {
			s.emit(Event{Kind: Pong, Data: append([]byte(nil), b...)})
		},
	}
	if p.TLS != nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: p.TLS}}
	}
	if p.Compression {
		opts.CompressionMode = websocket.CompressionContextTakeover
	}
	return opts
}

func nameOr(name, url string) string {
	if name != "" {
		return name
	}
	return url
}

// Connect is k6's ws.connect: it opens a session, lets setup register
// handlers (socket.on …), runs the session on the caller's goroutine until
// it closes, and returns the handshake's response.
func Connect(ctx context.Context, st *vu.State, rawURL string, p Params, setup func(*Socket)) (*Response, error) {
	s, resp, err := Dial(ctx, st, rawURL, p)
	if err != nil {
		return resp, err
	}
	if setup != nil {
		setup(s)
	}
	s.Run()
	return resp, nil
}

// On adds a handler for an event kind (Run mode).
func (s *Socket) On(k EventKind, fn func(Event)) {
	s.handlers[k] = append(s.handlers[k], fn)
}

// Run delivers the open event, then every event and timer on the caller's
// goroutine until the session closes; the close event is the last. The
// session closes when the peer closes, the connection drops, a handler
// calls Close, or the context given to Dial ends.
func (s *Socket) Run() {
	s.emit = func(ev Event) {
		select {
		case s.events <- ev:
		case <-s.stopped:
		}
	}
	go s.read()
	s.dispatch(Event{Kind: Open})
	done := s.ctx.Done()
	for {
		select {
		case ev := <-s.events:
			s.dispatch(ev)
			if ev.Kind == Close {
				s.cancel()
				return
			}
		case fn := <-s.timers:
			fn()
		case <-done:
			done = nil
			s.Close(int(websocket.StatusGoingAway))
		}
	}
}

// Start runs the session beside the caller, for k6/websockets: deliver
// gets every event, open first and close last, from the session's
// goroutine. Timers are the caller's own in this mode.
func (s *Socket) Start(deliver func(Event)) {
	s.emit = func(ev Event) {
		ev.Socket = s
		deliver(ev)
	}
	s.emit(Event{Kind: Open})
	go func() {
		s.read()
		s.cancel()
	}()
}

func (s *Socket) dispatch(ev Event) {
	for _, fn := range s.handlers[ev.Kind] {
		fn(ev)
	}
}

// read owns the read side and emits messages, then the end of the session.
func (s *Socket) read() {
	for {
		typ, b, err := s.conn.Read(s.ctx)
		if err != nil {
			s.finish(err)
			return
		}
		s.sinks.add(s.sinks.received, 1)
		kind := Message
		if typ == websocket.MessageBinary {
			kind = BinaryMessage
		}
		s.emit(Event{Kind: kind, Data: b})
	}
}

// finish records the session and emits error (when it did not end with a
// close frame we or the peer asked for) and close.
func (s *Socket) finish(err error) {
	s.sinks.add(s.sinks.duration, ms(time.Since(s.start)))
	code := int(websocket.CloseStatus(err))
	var reason string
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		reason = ce.Reason
	}
	s.mu.Lock()
	closing, sent := s.closing, s.closeCode
	s.mu.Unlock()
	switch {
	case code != -1:
	case closing:
		code = sent // we closed, and the connection went before the peer's answer
	case s.ctx.Err() != nil:
		code = int(websocket.StatusGoingAway) // the VU's context ended: we left
	default:
		code = int(websocket.StatusAbnormalClosure)
		s.st.Registry.Errors.Add("ws", err.Error(), s.Response.URL)
		s.emit(Event{Kind: Error, Err: err})
	}
	s.emit(Event{Kind: Close, Code: code, Reason: reason})
	close(s.stopped)
}

// Send sends a text message.
func (s *Socket) Send(text string) error { return s.write(websocket.MessageText, []byte(text)) }

// SendBinary sends a binary message.
func (s *Socket) SendBinary(b []byte) error { return s.write(websocket.MessageBinary, b) }

func (s *Socket) write(typ websocket.MessageType, b []byte) error {
	if err := s.conn.Write(s.ctx, typ, b); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	s.sinks.add(s.sinks.sent, 1)
	return nil
}

// Ping sends a ping; its round trip is recorded in ws_ping when the pong
// arrives, and the pong event follows.
func (s *Socket) Ping() {
	go func() {
		t0 := time.Now()
		if err := s.conn.Ping(s.ctx); err == nil {
			s.sinks.add(s.sinks.ping, ms(time.Since(t0)))
		}
	}()
}

// SetTimeout runs fn once after d on the session's loop (Run mode).
func (s *Socket) SetTimeout(fn func(), d time.Duration) {
	t := time.AfterFunc(d, func() { s.post(fn) })
	context.AfterFunc(s.ctx, func() { t.Stop() })
}

// SetInterval runs fn every d on the session's loop until it closes (Run
// mode).
func (s *Socket) SetInterval(fn func(), d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.post(fn)
			case <-s.ctx.Done():
				return
			}
		}
	}()
}

func (s *Socket) post(fn func()) {
	select {
	case s.timers <- fn:
	case <-s.ctx.Done():
	}
}

// Close starts the closing handshake with code (0: 1000, normal). It does
// not wait: the close event follows when the peer answers or the
// connection drops.
func (s *Socket) Close(code int) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	if code == 0 {
		code = int(websocket.StatusNormalClosure)
	}
	s.closing, s.closeCode = true, code
	s.mu.Unlock()
	go s.conn.Close(websocket.StatusCode(code), "")
}

// hostPort is u's host and port, the scheme's default port when u has none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "wss" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
