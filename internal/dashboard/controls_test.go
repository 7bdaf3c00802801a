package dashboard

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/surgeload/surge/internal/engine"
)

func TestControls(t *testing.T) {
	stop := func() {}
	all := Controls{Stop: true, Users: true, Reset: true}
	for _, tc := range []struct {
		name string
		o    Options
		want Controls
	}{
		{"local run", Options{Control: engine.NewControl()}, all},
		{"local run with its own stop", Options{Control: engine.NewControl(), Stop: stop}, all},
		{"distributed master", Options{Stop: stop, Distributed: true}, Controls{Stop: true, Why: whyMaster}},
		{"stop only", Options{Stop: stop}, Controls{Stop: true, Why: whyStopOnly}},
		{"master without stop", Options{Distributed: true}, Controls{Why: whyNone}},
		{"nothing", Options{}, Controls{Why: whyNone}},
	} {
		if got := controls(tc.o); got != tc.want {
			t.Errorf("%s: controls = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestDocsQuoteTheMasterReason keeps docs/dashboard.md's example of a
// refused control on a master in step with the server's words.
func TestDocsQuoteTheMasterReason(t *testing.T) {
	b, err := os.ReadFile("../../docs/dashboard.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"error":"` + whyMaster + `"}`; !strings.Contains(string(b), want) {
		t.Errorf("docs/dashboard.md does not show the master's refusal %s", want)
	}
}

// TestSteeringObeysOnlyWhatTheRunOffers runs a dashboard as surge run
// (engine Control), as surge master (a stop function only) and with no
// control at all: the state says which controls work, each one offered is
// obeyed (the master's Stop calls its stop function once per press and
// the next tick says "stopping"), each other one is refused with 409 and
// the state's one-line reason, and after the end every one is refused.
func TestSteeringObeysOnlyWhatTheRunOffers(t *testing.T) {
	const accepted, refused = http.StatusAccepted, http.StatusConflict
	for _, tc := range []struct {
		name          string
		control, stop bool
		distributed   bool
		want          Controls
		users, reset  int // status of POST api/users, api/reset
		stopCode      int
	}{
		{"local run", true, false, false, Controls{Stop: true, Users: true, Reset: true}, accepted, accepted, accepted},
		{"distributed master", false, true, true, Controls{Stop: true, Why: whyMaster}, refused, refused, accepted},
		{"no control", false, false, false, Controls{Why: whyNone}, refused, refused, refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(0)
			var stops atomic.Int32
			o := Options{Addr: "127.0.0.1:0", Registry: f.reg, Distributed: tc.distributed, Linger: KeepUntilClosed}
			if tc.control {
				o.Control = engine.NewControl()
			}
			if tc.stop {
				o.Stop = func() { stops.Add(1) }
			}
			s, err := Start(o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			b := base(s)
			s.Tick(f.tick(1, 1))
			if st := state(t, b); st.Controls != tc.want {
				t.Errorf("state controls = %+v, want %+v", st.Controls, tc.want)
			}
			steer := func(path, body string, want int) {
				t.Helper()
				code, resp := do(t, http.MethodPost, b+path, nil, body)
				var msg struct{ Error string }
				json.Unmarshal([]byte(resp), &msg)
				switch {
				case code != want:
					t.Errorf("POST %s = %d %q, want %d", path, code, resp, want)
				case code == refused && msg.Error != tc.want.Why:
					t.Errorf("POST %s refused with %q, want the state's reason %q", path, msg.Error, tc.want.Why)
				}
			}
			steer("/api/users", "users=3", tc.users)
			steer("/api/reset", "", tc.reset)
			steer("/api/stop", "", tc.stopCode)
			stopped := tc.stopCode == accepted
			if tc.control && o.Control.Stopped() != stopped {
				t.Errorf("engine control stopped = %v, want %v", o.Control.Stopped(), stopped)
			}
			if tc.stop && stops.Load() != 1 {
				t.Errorf("stop function called %d times, want once", stops.Load())
			}
			s.Tick(f.tick(2, 1))
			if st, want := state(t, b).Stats.Status, map[bool]string{true: "stopping", false: "running"}[stopped]; st != want {
				t.Errorf("status after the stop request = %q, want %q", st, want)
			}

			s.Finish(nil)
			for path, offered := range map[string]bool{"/api/stop": tc.want.Stop, "/api/users": tc.want.Users, "/api/reset": tc.want.Reset} {
				why := tc.want.Why
				if offered {
					why = "the run has finished"
				}
				if code, resp := do(t, http.MethodPost, b+path, nil, "users=3"); code != refused || !strings.Contains(resp, why) {
					t.Errorf("POST %s after the end = %d %q, want 409 saying %q", path, code, resp, why)
				}
			}
			if tc.stop && stops.Load() != 1 {
				t.Errorf("stop function called %d times after the end, want once in all", stops.Load())
			}
		})
	}
}

func state(t *testing.T, base string) initState {
	t.Helper()
	var st initState
	_, body := do(t, http.MethodGet, base+"/api/state", nil, "")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("api/state: %v in %s", err, body)
	}
	return st
}
