package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// maxUsers bounds what a page may ask for, as a guard against a typo.
const maxUsers = 1_000_000

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.initLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleStatsJSON(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.stats
	s.mu.Unlock()
	w.Header().Set("Content-Disposition", `attachment; filename="surge_stats.json"`)
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleCSV(failures bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		st := s.stats
		s.mu.Unlock()
		name, write := "surge_stats.csv", st.WriteCSV
		if failures {
			name, write = "surge_failures.csv", st.WriteFailuresCSV
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		write(w)
	}
}

// handleEvents streams Server-Sent Events: "init" with the whole state,
// then "tick" every second and "finished" once at the end.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	c := make(chan []byte, 16)
	s.mu.Lock()
	first, err := sseEvent("init", s.initLocked())
	finished := s.finished
	if !finished {
		s.clients[c] = struct{}{}
	}
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer s.drop(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.Write(first)
	fl.Flush()
	if finished {
		return
	}
	for {
		select {
		case msg, ok := <-c:
			if !ok {
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			fl.Flush()
			if isEvent(msg, "finished") {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

func isEvent(msg []byte, name string) bool {
	prefix := "event: " + name + "\n"
	return len(msg) >= len(prefix) && string(msg[:len(prefix)]) == prefix
}

func (s *Server) drop(c chan []byte) {
	s.mu.Lock()
	if _, ok := s.clients[c]; ok {
		delete(s.clients, c)
		close(c)
	}
	s.mu.Unlock()
}

func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) {
	if !s.steerable(w, s.ctl.Stop) {
		return
	}
	s.stopped.Store(true)
	s.o.Stop()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "stopping"})
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	if !s.steerable(w, s.ctl.Reset) {
		return
	}
	s.resetRq.Store(true)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "statistics reset at the next tick"})
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	if !s.steerable(w, s.ctl.Users) {
		return
	}
	t, err := parseTarget(r.FormValue("users"), r.FormValue("spawn_rate"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.o.Control.SetUsers(t.Users, t.SpawnRate)
	s.mu.Lock()
	s.target = &t
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, t)
}

// parseTarget reads the user count and spawn rate of the users form; an
// empty spawn rate means all at once.
func parseTarget(users, rate string) (Target, error) {
	n, err := strconv.Atoi(users)
	if err != nil || n < 0 || n > maxUsers {
		return Target{}, fmt.Errorf("users: want a whole number from 0 to %d, got %q", maxUsers, users)
	}
	t := Target{Users: n}
	if rate != "" {
		t.SpawnRate, err = strconv.ParseFloat(rate, 64)
		if err != nil || t.SpawnRate < 0 || t.SpawnRate != t.SpawnRate {
			return Target{}, fmt.Errorf("spawn_rate: want users per second ≥ 0 (0: at once), got %q", rate)
		}
	}
	return t, nil
}

// steerable answers a control request that cannot be obeyed: one the run
// does not offer (offered false), or any once the run has finished.
func (s *Server) steerable(w http.ResponseWriter, offered bool) bool {
	s.mu.Lock()
	finished := s.finished
	s.mu.Unlock()
	switch {
	case !offered:
		writeJSON(w, http.StatusConflict, map[string]string{"error": s.ctl.Why})
	case finished:
		writeJSON(w, http.StatusConflict, map[string]string{"error": "the run has finished: the dashboard only shows its results now"})
	default:
		return true
	}
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
