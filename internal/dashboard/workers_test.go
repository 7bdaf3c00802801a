package dashboard

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/report"
)

func startDistributed(t *testing.T, f *fixture) *Server {
	t.Helper()
	s, err := Start(Options{Addr: "127.0.0.1:0", Registry: f.reg, Distributed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func getState(t *testing.T, s *Server) initState {
	t.Helper()
	code, body := do(t, http.MethodGet, base(s)+"/api/state", nil, "")
	var st initState
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusOK {
		t.Fatalf("GET /api/state = %d %v", code, err)
	}
	return st
}

// TestWorkersPushedAndKept: rows given to SetWorkers reach an open page as
// a "workers" event, a page that connects late in its first event and in
// /api/state, and the workers.json download; a lost worker keeps its row.
func TestWorkersPushedAndKept(t *testing.T) {
	f := newFixture(0)
	s := startDistributed(t, f)
	if st := getState(t, s); !st.Distributed || st.Workers == nil || len(st.Workers) != 0 {
		t.Fatalf("before any worker: distributed %v, workers %#v; want a distributed run with an empty list", st.Distributed, st.Workers)
	}
	resp, err := http.Get(base(s) + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ev := sse{bufio.NewReader(resp.Body)}
	if name, _ := ev.next(t); name != "init" {
		t.Fatalf("first event %q", name)
	}

	hb := f.t0.Add(2 * time.Second)
	s.SetWorkers([]WorkerRow{
		{Name: "w0", Addr: "127.0.0.1:4000", State: "running", Users: 5, RPS: 51, CPU: 12, Requests: 100, HeartbeatAge: 0.2, LastHeartbeat: hb, Segments: []string{"0/2–1/2"}},
		{Name: "w1", Addr: "127.0.0.1:4001", State: "running", Users: 5, RPS: 49, CPU: 11, Requests: 98, HeartbeatAge: 0.3, LastHeartbeat: hb},
	})
	name, data := ev.next(t)
	var got workersEvent
	if err := json.Unmarshal([]byte(data), &got); err != nil || name != "workers" {
		t.Fatalf("event %q %v: %s", name, err, data)
	}
	if len(got.Workers) != 2 || got.Workers[0].RPS != 51 || got.Workers[1].Name != "w1" || got.Workers[1].Segments == nil || !got.Workers[0].LastHeartbeat.Equal(hb) {
		t.Fatalf("pushed workers %+v", got.Workers)
	}

	// w1 is lost: its row stays, marked with when.
	s.SetWorkers([]WorkerRow{
		{Name: "w0", State: "running", Users: 10, RPS: 100, Requests: 200},
		{Name: "w1", State: "lost", LostAt: 2.5, Requests: 120, HeartbeatAge: 3.1},
	})
	ev.next(t)
	st := getState(t, s)
	if len(st.Workers) != 2 || st.Workers[1].State != "lost" || st.Workers[1].LostAt != 2.5 || st.Workers[0].RPS != 100 {
		t.Fatalf("state workers %+v; want w0 running at 100 req/s and w1 lost at 2.5 s", st.Workers)
	}
	late, err := http.Get(base(s) + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer late.Body.Close()
	_, data = sse{bufio.NewReader(late.Body)}.next(t)
	if !strings.Contains(data, `"state":"lost","users":0,"rps":0`) || !strings.Contains(data, `"lost_at":2.5`) {
		t.Errorf("a late page's first event lacks the lost worker: %s", data)
	}
	resp2, err := http.Get(base(s) + "/api/workers.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var dl workersEvent
	if err := json.NewDecoder(resp2.Body).Decode(&dl); err != nil || len(dl.Workers) != 2 || dl.Workers[1].State != "lost" ||
		!strings.Contains(resp2.Header.Get("Content-Disposition"), "surge_workers.json") {
		t.Errorf("workers.json: %v %+v (%s)", err, dl, resp2.Header.Get("Content-Disposition"))
	}

	// After Finish the rows no longer change.
	s.o.Linger = KeepUntilClosed
	s.Finish(&report.Summary{})
	s.SetWorkers(nil)
	if st := getState(t, s); len(st.Workers) != 2 {
		t.Errorf("after Finish SetWorkers changed the rows: %+v", st.Workers)
	}
}

// TestLocalRunHasNoWorkers: a local run's state says so, and the page
// keeps the Workers tab hidden unless the run is distributed.
func TestLocalRunHasNoWorkers(t *testing.T) {
	f := newFixture(0)
	s, _ := startServer(t, f, "")
	if st := getState(t, s); st.Distributed || len(st.Workers) != 0 {
		t.Errorf("local run: distributed %v, workers %+v", st.Distributed, st.Workers)
	}
	_, page := do(t, http.MethodGet, base(s)+"/", nil, "")
	_, js := do(t, http.MethodGet, base(s)+"/assets/app.js", nil, "")
	if !strings.Contains(page, `id="workers-tab" hidden`) || !strings.Contains(js, `$("#workers-tab").hidden = $("#workers-download").hidden = !d.distributed`) {
		t.Error("the Workers tab is not hidden by default and shown for distributed runs only")
	}
}
