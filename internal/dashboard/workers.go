package dashboard

import (
	"net/http"
	"time"
)

// WorkerRow is one worker of a distributed run in the Workers tab. It is
// the dashboard's own type, filled by the command from the cluster's
// view, so that this package does not depend on the cluster.
type WorkerRow struct {
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	State string `json:"state"` // joining, ready, running, idle, done, lost, left, refused
	// Users is the VUs the worker runs now; RPS its requests per second
	// over its last second, AvgRPS over the run so far.
	Users    float64 `json:"users"`
	RPS      float64 `json:"rps"`
	AvgRPS   float64 `json:"avg_rps"`
	CPU      float64 `json:"cpu"` // percent of one CPU
	Requests int64   `json:"requests"`
	// HeartbeatAge is the seconds since its last message when the row was
	// made; LastHeartbeat is that message's time.
	HeartbeatAge  float64   `json:"heartbeat_age"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
	LostAt        float64   `json:"lost_at,omitempty"` // seconds since the start, when lost
	Segments      []string  `json:"segments"`
}

// workersEvent is the payload of the "workers" event.
type workersEvent struct {
	Workers []WorkerRow `json:"workers"`
}

// SetWorkers shows the current rows of the Workers tab and pushes them to
// every page. It may be called from any goroutine, before the run starts
// (workers joining) and after it (the final states), until Finish.
func (s *Server) SetWorkers(rows []WorkerRow) {
	rows = append([]WorkerRow{}, rows...)
	for i := range rows {
		if rows[i].Segments == nil {
			rows[i].Segments = []string{}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.workers = rows
	s.broadcastLocked("workers", workersEvent{Workers: rows})
}

// handleWorkersJSON serves the current rows as a download.
func (s *Server) handleWorkersJSON(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rows := s.workers
	s.mu.Unlock()
	w.Header().Set("Content-Disposition", `attachment; filename="surge_workers.json"`)
	writeJSON(w, http.StatusOK, workersEvent{Workers: rows})
}
