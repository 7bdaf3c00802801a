// Package demo is surge's built-in demo API: the service of the original
// brief (log in, list items, create items) plus one deliberately slow and
// one flaky endpoint, and net/http/pprof, so that every part of surge can
// be tried without a service of one's own.
package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"
)

// Options shape the demo's behavior.
type Options struct {
	SlowDelay  time.Duration // how long /api/slow takes (default 150ms)
	FlakyShare float64       // share of /api/flaky requests that fail with 500 (default 0.2)
	EmptyItems bool          // /api/items answers an empty list (makes the seed's checks fail)
}

// Server is the demo API.
type Server struct {
	opts   Options
	mu     sync.Mutex
	tokens map[string]bool
	items  []Item
	nextID int
}

// Item is one stored item.
type Item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// New returns a demo server with a few items.
func New(opts Options) *Server {
	if opts.SlowDelay == 0 {
		opts.SlowDelay = 150 * time.Millisecond
	}
	if opts.FlakyShare == 0 {
		opts.FlakyShare = 0.2
	}
	s := &Server{opts: opts, tokens: map[string]bool{}, nextID: 1}
	for _, n := range []string{"anvil", "bolt", "cog"} {
		s.items = append(s.items, Item{ID: s.nextID, Name: n, Value: 42})
		s.nextID++
	}
	return s
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/login", s.login)
	mux.HandleFunc("GET /api/items", s.auth(s.list))
	mux.HandleFunc("POST /api/items", s.auth(s.create))
	mux.HandleFunc("GET /api/items/{id}", s.auth(s.get))
	mux.HandleFunc("GET /api/slow", s.slow)
	mux.HandleFunc("GET /api/flaky", s.flaky)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var body struct{ Username, Password string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Username == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"username\": …, \"password\": …}"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok})
}

func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		valid := ok && s.tokens[tok]
		s.mu.Unlock()
		if !valid {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or unknown bearer token"})
			return
		}
		next(w, r)
	}
}

func (s *Server) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	items := s.items
	if s.opts.EmptyItems {
		items = []Item{}
	} else if len(items) > 50 {
		items = items[len(items)-50:]
	}
	out := append([]Item{}, items...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if r.PathValue("id") == itoa(it.ID) {
			writeJSON(w, http.StatusOK, it)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such item"})
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var it Item
	if err := json.NewDecoder(r.Body).Decode(&it); err != nil || it.Name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"name\": …, \"value\": …}"})
		return
	}
	s.mu.Lock()
	it.ID = s.nextID
	s.nextID++
	s.items = append(s.items, it)
	if len(s.items) > 1000 {
		s.items = s.items[len(s.items)-1000:]
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, it)
}

func (s *Server) slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(s.opts.SlowDelay):
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "slow but fine"})
}

func (s *Server) flaky(w http.ResponseWriter, _ *http.Request) {
	n, _ := rand.Int(rand.Reader, big.NewInt(1000))
	if float64(n.Int64()) < s.opts.FlakyShare*1000 {
		http.Error(w, "flaky: injected failure", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok this time"})
}
