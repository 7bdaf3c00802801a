package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

//go:embed assets
var assets embed.FS

// DefaultAddr is where --dashboard listens when given no address.
const DefaultAddr = "127.0.0.1:5665"

// maxInitPoints bounds the history a newly connected page receives (the
// last hour of a longer run) and, twice over, the history kept in memory.
const maxInitPoints = 3600

// finishWait is how long Finish waits for connected pages to receive the
// final state before the server shuts down.
const finishWait = time.Second

// Options configure a dashboard.
type Options struct {
	Addr     string // HOST:PORT; DefaultAddr when empty
	Token    string // required by every request when set
	Registry *metrics.Registry
	Control  *engine.Control   // nil: no users form, no reset, no user mix
	Config   map[string]string // how the test was run; "stage" marks the charts
	// Stop is what the page's Stop button calls; nil means Control's
	// Stop. A distributed master, which has no Control, sets it to end
	// its run as Ctrl-C does. Neither: the run cannot be steered.
	Stop func()
	// Linger keeps the dashboard up after Finish, as Locust's web UI stays
	// up after a test: that long when positive, until Close when negative
	// (KeepUntilClosed). Zero shuts it down once open pages got the end.
	Linger time.Duration
	// Report, when set, renders the HTML report of the finished run for
	// the page's download link. It is called after Finish only, when the
	// registry no longer changes.
	Report func(w io.Writer, sum *report.Summary) error
	// Distributed marks a distributed master's dashboard: the page shows
	// the Workers tab, filled by SetWorkers.
	Distributed bool
}

// KeepUntilClosed is the Linger that keeps a finished run's dashboard up
// until Close (Ctrl-C).
const KeepUntilClosed time.Duration = -1

// Server is a running dashboard.
type Server struct {
	o       Options
	ln      net.Listener
	srv     *http.Server
	col     *collector
	stages  []float64
	ctl     Controls
	resetRq atomic.Bool
	stopped atomic.Bool // Stop was pressed
	done    chan struct{}

	mu       sync.Mutex
	points   []Point
	stats    Stats
	target   *Target
	resetAt  time.Time
	finished bool
	sum      *report.Summary     // the finished run's summary
	attached []report.Attachment // profiles and SQL, live or from the summary
	workers  []WorkerRow         // a distributed run's workers (SetWorkers)
	clients  map[chan []byte]struct{}

	reportMu   sync.Mutex
	reportHTML []byte // rendered once, on the first download
}

// Start listens on o.Addr and serves the dashboard until Finish or Close.
func Start(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Registry == nil {
		return nil, errors.New("no registry to show")
	}
	if err := CheckAddr(o.Addr, o.Token); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	if o.Stop == nil && o.Control != nil {
		o.Stop = o.Control.Stop
	}
	s := &Server{o: o, ln: ln, ctl: controls(o), col: newCollector(o.Registry), stages: stageMarks(o.Config["stage"]),
		done: make(chan struct{}), clients: map[chan []byte]struct{}{}}
	s.workers = []WorkerRow{}
	s.stats = Stats{Status: "starting", Requests: []Row{}, Failures: []ErrorRow{}, Exceptions: []ErrorRow{}, Checks: []CheckRow{}, Mix: []MixRow{}}
	s.srv = &http.Server{Handler: guard(o.Token, s.routes()), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the address to open in a browser, with the token when one is set.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/"
	if s.o.Token != "" {
		u += "?token=" + url.QueryEscape(s.o.Token)
	}
	return u
}

// Tick records the registry's state after an engine tick and pushes it to
// every page. It must be called from the goroutine that ticks the registry.
func (s *Server) Tick(now time.Time) {
	reg := s.o.Registry
	p := s.col.point(now)
	if s.resetRq.Swap(false) {
		reg.Reset(now)
		s.col.reset()
		s.mu.Lock()
		s.resetAt = now
		s.mu.Unlock()
	}
	s.mu.Lock()
	from := reg.StartTime().Add(reg.Warmup())
	if s.resetAt.After(from) {
		from = s.resetAt
	}
	s.mu.Unlock()
	st := buildStats(reg, now, max(now.Sub(from), 0))
	st.Status = "running"
	mix := s.o.Control.UserMix()
	st.Mix, p.ScenarioUsers = mixRows(mix), scenarioUsers(mix)
	if s.stopped.Load() || s.o.Control.Stopped() {
		st.Status = "stopping"
	}
	meta := runMeta{Start: reg.StartTime(), Warmup: reg.Warmup().Seconds(), Stages: s.marks()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	st.Target = s.target
	s.points = append(s.points, p)
	if len(s.points) >= 2*maxInitPoints { // keep memory bounded in a long run
		s.points = append(s.points[:0], s.points[len(s.points)-maxInitPoints:]...)
	}
	s.stats = st
	s.broadcastLocked("tick", map[string]any{"point": p, "stats": st, "meta": meta})
}

// Finish shows how the run ended. Without Linger it waits up to a second
// for connected pages to receive it and shuts the server down; with Linger
// it returns at once and the server keeps answering (control actions are
// refused) until the linger ends or Close. sum may be nil (a failed run).
func (s *Server) Finish(sum *report.Summary) {
	s.mu.Lock()
	if !s.finished {
		s.finished = true
		s.stats.Status = "finished"
		if sum != nil {
			s.sum = sum
			s.stats.Final = finalResult(sum)
			if len(sum.Attachments) > 0 { // else keep what was attached live
				s.attached = append([]report.Attachment{}, sum.Attachments...)
			}
		}
		s.broadcastLocked("finished", map[string]any{"stats": s.stats, "attachments": attachmentInfos(s.attached)})
	}
	s.mu.Unlock()
	switch {
	case s.o.Linger > 0:
		time.AfterFunc(s.o.Linger, func() { s.Close() })
		return
	case s.o.Linger < 0:
		return
	}
	deadline := time.Now().Add(finishWait)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		n := len(s.clients)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
}

// Done is closed when the server has stopped serving (Close, or the end
// of Linger).
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the server at once.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.finished = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// broadcastLocked sends one event to every page; a page too slow to keep
// up is dropped (its browser reconnects and gets the whole state again).
func (s *Server) broadcastLocked(event string, v any) {
	msg, err := sseEvent(event, v)
	if err != nil {
		return
	}
	for c := range s.clients {
		select {
		case c <- msg:
		default:
			delete(s.clients, c)
			close(c)
		}
	}
}

func sseEvent(event string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return []byte("event: " + event + "\ndata: " + string(b) + "\n\n"), nil
}

// runMeta is what the charts mark. Each tick carries it too: a page may
// connect before the engine has started the clock and set the warm-up.
type runMeta struct {
	Start  time.Time `json:"start"`
	Warmup float64   `json:"warmup"` // seconds
	Stages []float64 `json:"stages"` // stage boundaries, seconds
}

// initState is the first event of a page: everything so far.
type initState struct {
	runMeta
	Config map[string]string `json:"config"`
	Points []Point           `json:"points"`
	Stats  Stats             `json:"stats"`
	// Attachments are the profiles and SQL tables recorded so far.
	Attachments []AttachmentInfo `json:"attachments"`
	// Distributed is set on a master's dashboard, whose Workers are the
	// rows of its Workers tab.
	Distributed bool        `json:"distributed"`
	Workers     []WorkerRow `json:"workers"`
	// Controls are the steering controls this run obeys.
	Controls Controls `json:"controls"`
}

func (s *Server) initLocked() initState {
	pts := s.points
	if len(pts) > maxInitPoints {
		pts = pts[len(pts)-maxInitPoints:]
	}
	cfg := s.o.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	return initState{runMeta: runMeta{Start: s.o.Registry.StartTime(), Warmup: s.o.Registry.Warmup().Seconds(), Stages: s.marks()},
		Config: cfg, Points: append([]Point{}, pts...), Stats: s.stats, Attachments: attachmentInfos(s.attached),
		Distributed: s.o.Distributed, Workers: s.workers, Controls: s.ctl}
}

// marks are the stage boundaries in seconds: the engine's StageMarks
// once the run has started (scripts and flags alike), else those of the
// --stage flags in Config (a distributed master has no engine control).
func (s *Server) marks() []float64 {
	ms := s.o.Control.StageMarks()
	if ms == nil {
		return s.stages
	}
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = m.Seconds()
	}
	return out
}

// stageMarks turns "30s:20, 1m:50" (the --stage flags of surge run) into
// the seconds at which each stage ends.
func stageMarks(stages string) []float64 {
	out := []float64{}
	var at time.Duration
	for _, st := range strings.FieldsFunc(stages, func(r rune) bool { return r == ',' || r == ' ' }) {
		d, _, _ := strings.Cut(st, ":")
		dur, err := time.ParseDuration(d)
		if err != nil {
			return []float64{}
		}
		at += dur
		out = append(out, at.Seconds())
	}
	return out
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.HandleFunc("GET /api/state", s.handleState)
	mux.HandleFunc("GET /api/events", s.handleEvents)
	mux.HandleFunc("GET /api/stats.json", s.handleStatsJSON)
	mux.HandleFunc("GET /api/stats.csv", s.handleCSV(false))
	mux.HandleFunc("GET /api/failures.csv", s.handleCSV(true))
	mux.HandleFunc("GET /api/workers.json", s.handleWorkersJSON)
	mux.HandleFunc("GET /api/report.html", s.handleReport)
	mux.HandleFunc("GET /api/attachments/{id}", s.handleAttachment)
	mux.HandleFunc("POST /api/stop", s.handleStop)
	mux.HandleFunc("POST /api/users", s.handleUsers)
	mux.HandleFunc("POST /api/reset", s.handleReset)
	return mux
}
