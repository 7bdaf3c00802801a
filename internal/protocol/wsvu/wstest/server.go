// Package wstest is a real WebSocket server for surge's tests, examples
// and benchmarks (coder/websocket's Accept behind net/http):
//
//	/echo       echoes every message with its type; subprotocols "chat"
//	            and "superchat"; answers the X-Test request header in
//	            X-Echo-Test
//	/broadcast  sends every message to every client connected here
//	/close      closes with 4000 "bye" after the first message
//	/drop       drops the TCP connection after the first message
//	/ping       pings the client once connected, then echoes
package wstest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Server is a running WebSocket test server.
type Server struct {
	HTTP *httptest.Server
	// URL is the ws:// base URL, without a path.
	URL string

	mu      sync.Mutex
	clients map[*websocket.Conn]bool
}

// Handler returns the routes above, for callers that run their own
// listener (examples/ws).
func Handler() http.Handler {
	s := &Server{clients: map[*websocket.Conn]bool{}}
	return s.mux()
}

// Start serves on a loopback port until Close.
func Start() *Server {
	s := &Server{clients: map[*websocket.Conn]bool{}}
	s.HTTP = httptest.NewServer(s.mux())
	s.URL = "ws" + s.HTTP.URL[len("http"):]
	return s
}

// Close stops the server and drops every connection.
func (s *Server) Close() {
	s.HTTP.CloseClientConnections()
	s.HTTP.Close()
}

func (s *Server) mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/echo", s.echo)
	m.HandleFunc("/broadcast", s.broadcast)
	m.HandleFunc("/close", s.closeAfterOne)
	m.HandleFunc("/drop", s.dropAfterOne)
	m.HandleFunc("/ping", s.ping)
	return m
}

func accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, bool) {
	if v := r.Header.Get("X-Test"); v != "" {
		w.Header().Set("X-Echo-Test", v)
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"chat", "superchat"}})
	if err != nil {
		return nil, false
	}
	c.SetReadLimit(64 << 20)
	return c, true
}

func echoLoop(ctx context.Context, c *websocket.Conn) {
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, b); err != nil {
			return
		}
	}
}

func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	c, ok := accept(w, r)
	if !ok {
		return
	}
	defer c.CloseNow()
	echoLoop(r.Context(), c)
}

func (s *Server) broadcast(w http.ResponseWriter, r *http.Request) {
	c, ok := accept(w, r)
	if !ok {
		return
	}
	defer c.CloseNow()
	s.mu.Lock()
	s.clients[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
	}()
	for {
		typ, b, err := c.Read(r.Context())
		if err != nil {
			return
		}
		s.mu.Lock()
		all := make([]*websocket.Conn, 0, len(s.clients))
		for o := range s.clients {
			all = append(all, o)
		}
		s.mu.Unlock()
		for _, o := range all {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			o.Write(ctx, typ, b)
			cancel()
		}
	}
}

func (s *Server) closeAfterOne(w http.ResponseWriter, r *http.Request) {
	c, ok := accept(w, r)
	if !ok {
		return
	}
	defer c.CloseNow()
	if _, _, err := c.Read(r.Context()); err != nil {
		return
	}
	c.Close(4000, "bye")
}

func (s *Server) dropAfterOne(w http.ResponseWriter, r *http.Request) {
	c, ok := accept(w, r)
	if !ok {
		return
	}
	if _, _, err := c.Read(r.Context()); err != nil {
		return
	}
	c.CloseNow() // no close frame: the client sees the connection drop
}

func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	c, ok := accept(w, r)
	if !ok {
		return
	}
	defer c.CloseNow()
	go func() {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		c.Ping(ctx)
	}()
	echoLoop(r.Context(), c)
}
