package dashboard

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/report"
)

func startServer(t *testing.T, f *fixture, token string) (*Server, *engine.Control) {
	t.Helper()
	ctl := engine.NewControl()
	s, err := Start(Options{Addr: "127.0.0.1:0", Token: token, Registry: f.reg, Control: ctl, Config: map[string]string{"stage": "2s:5, 3s:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, ctl
}

// base is the server's URL without the token.
func base(s *Server) string { return strings.TrimSuffix(strings.Split(s.URL(), "?")[0], "/") }

func do(t *testing.T, method, u string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr, token, err string
	}{
		{"127.0.0.1:5665", "", ""},
		{"localhost:0", "", ""},
		{"[::1]:5665", "", ""},
		{"0.0.0.0:5665", "", "needs --dashboard-token"},
		{":5665", "", "needs --dashboard-token"},
		{"192.0.2.7:5665", "", "needs --dashboard-token"},
		{"0.0.0.0:5665", "s3cret", ""},
		{"5665", "", "want HOST:PORT"},
	} {
		err := CheckAddr(tc.addr, tc.token)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("CheckAddr(%q, %q) = %v, want nil", tc.addr, tc.token, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CheckAddr(%q, %q) = %v, want an error containing %q", tc.addr, tc.token, err, tc.err)
		}
	}
	if _, err := Start(Options{Addr: "0.0.0.0:0", Registry: newFixture(0).reg}); err == nil || !strings.Contains(err.Error(), "refusing to serve") {
		t.Errorf("Start on every interface without a token = %v, want a refusal", err)
	}
}

func TestTokenIsRequired(t *testing.T) {
	f := newFixture(0)
	s, _ := startServer(t, f, "s3cret")
	if !strings.HasSuffix(s.URL(), "/?token=s3cret") {
		t.Fatalf("URL %q does not carry the token", s.URL())
	}
	b := base(s)
	for _, tc := range []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"none", "/api/state", nil, http.StatusUnauthorized},
		{"page without token", "/", nil, http.StatusUnauthorized},
		{"wrong query", "/api/state?token=nope", nil, http.StatusUnauthorized},
		{"query", "/?token=s3cret", nil, http.StatusOK},
		{"bearer", "/api/state", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
		{"wrong bearer", "/api/state", map[string]string{"Authorization": "Bearer s3cre"}, http.StatusUnauthorized},
		{"cookie", "/api/state", map[string]string{"Cookie": tokenCookie + "=s3cret"}, http.StatusOK},
		{"wrong cookie", "/api/state", map[string]string{"Cookie": tokenCookie + "=x"}, http.StatusUnauthorized},
		{"stop without token", "/api/stop", nil, http.StatusUnauthorized},
	} {
		method := http.MethodGet
		if strings.HasPrefix(tc.path, "/api/stop") {
			method = http.MethodPost
		}
		code, body := do(t, method, b+tc.path, tc.hdr, "")
		if code != tc.want {
			t.Errorf("%s: %s %s = %d %q, want %d", tc.name, method, tc.path, code, body, tc.want)
		}
		if code == http.StatusUnauthorized && !strings.Contains(body, "missing or wrong token") {
			t.Errorf("%s: 401 body %q does not say why", tc.name, body)
		}
	}
	// Opening the page with ?token= sets the cookie the page's own requests
	// then carry.
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, c := range resp.Cookies() {
		found = found || (c.Name == tokenCookie && c.Value == "s3cret" && c.HttpOnly && c.SameSite == http.SameSiteStrictMode)
	}
	if !found {
		t.Errorf("page response set cookies %v, want an HttpOnly SameSite=Strict token cookie", resp.Cookies())
	}
}

func TestControlRejectsCrossOriginAndGET(t *testing.T) {
	f := newFixture(0)
	s, ctl := startServer(t, f, "")
	b := base(s)
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed},
		{"foreign origin", http.MethodPost, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site other port", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"rebound host", http.MethodPost, map[string]string{"Host": "evil.example"}, http.StatusForbidden},
	} {
		code, body := do(t, tc.method, b+"/api/stop", tc.hdr, "")
		if code != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, code, body, tc.want)
		}
	}
	if ctl.Stopped() {
		t.Fatal("a rejected request stopped the run")
	}
	if code, body := do(t, http.MethodGet, b+"/api/state", map[string]string{"Host": "attacker.example:5665"}, ""); code != http.StatusForbidden || !strings.Contains(body, "forbidden Host") {
		t.Errorf("GET with a foreign Host = %d %q, want 403", code, body)
	}
	// The page's own request (same origin) is obeyed.
	u, _ := url.Parse(b)
	code, body := do(t, http.MethodPost, b+"/api/stop", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + u.Host}, "")
	if code != http.StatusAccepted || !ctl.Stopped() {
		t.Fatalf("same-origin stop = %d %q (stopped %v), want 202 and a stopped run", code, body, ctl.Stopped())
	}
}

func TestUsersForm(t *testing.T) {
	f := newFixture(0)
	s, _ := startServer(t, f, "")
	b := base(s)
	for _, tc := range []struct {
		body, want string
		code       int
	}{
		{"users=abc", "users: want a whole number", 400},
		{"users=-1", "users: want a whole number", 400},
		{"users=2000000", "users: want a whole number", 400},
		{"users=5&spawn_rate=fast", "spawn_rate: want users per second", 400},
		{"users=5&spawn_rate=-2", "spawn_rate: want users per second", 400},
		{"users=7&spawn_rate=2.5", `"users":7,"spawn_rate":2.5`, 202},
	} {
		code, body := do(t, http.MethodPost, b+"/api/users", nil, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST users %q = %d %q, want %d containing %q", tc.body, code, body, tc.code, tc.want)
		}
	}
	s.Tick(f.tick(1, 1))
	var st initState
	_, body := do(t, http.MethodGet, b+"/api/state", nil, "")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Stats.Target == nil || st.Stats.Target.Users != 7 || st.Stats.Target.SpawnRate != 2.5 {
		t.Errorf("state target = %+v, want 7 users at 2.5/s", st.Stats.Target)
	}
}

// sse reads Server-Sent Events.
type sse struct{ r *bufio.Reader }

func (e sse) next(t *testing.T) (string, string) {
	t.Helper()
	var event, data string
	for {
		line, err := e.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading events: %v (so far event %q)", err, event)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && event != "":
			return event, data
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func TestEventsStreamTicksResetAndFinish(t *testing.T) {
	f := newFixture(0)
	s, _ := startServer(t, f, "")
	b := base(s)
	for range 10 {
		f.request("default", "home", 3, false)
	}
	s.Tick(f.tick(1, 2))

	resp, err := http.Get(b + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	ev := sse{bufio.NewReader(resp.Body)}
	name, data := ev.next(t)
	var init initState
	if err := json.Unmarshal([]byte(data), &init); err != nil || name != "init" {
		t.Fatalf("first event %q %v", name, err)
	}
	if len(init.Points) != 1 || init.Points[0].RPS != 10 || init.Stats.Status != "running" || len(init.Stages) != 2 || init.Stages[1] != 5 {
		t.Fatalf("init = %+v, want one point of 10 req/s, running, stages at 2 and 5 s", init)
	}

	// Reset takes effect at the next tick: that tick's point still counts
	// its requests, the table starts over.
	for range 4 {
		f.request("default", "home", 3, false)
	}
	if code, body := do(t, http.MethodPost, b+"/api/reset", nil, ""); code != http.StatusAccepted {
		t.Fatalf("reset = %d %q", code, body)
	}
	s.Tick(f.tick(2, 2))
	var tick struct {
		Point Point
		Stats Stats
	}
	name, data = ev.next(t)
	if err := json.Unmarshal([]byte(data), &tick); err != nil || name != "tick" {
		t.Fatalf("second event %q %v", name, err)
	}
	if tick.Point.RPS != 4 || len(tick.Stats.Requests) != 0 {
		t.Fatalf("tick after reset: point %+v, %d rows; want 4 req/s and an empty table", tick.Point, len(tick.Stats.Requests))
	}
	for range 6 {
		f.request("default", "home", 3, false)
	}
	s.Tick(f.tick(3, 2))
	ev.next(t)
	_, csv := do(t, http.MethodGet, b+"/api/stats.csv", nil, "")
	if !strings.Contains(csv, "GET,home,6,0,") || !strings.Contains(csv, "6.00,0.00") {
		t.Errorf("stats.csv after reset does not count 6 requests in 1 s:\n%s", csv)
	}

	done := make(chan struct{})
	go func() {
		s.Finish(&report.Summary{Notes: []string{"the test was aborted: stopped from the dashboard"}})
		close(done)
	}()
	name, data = ev.next(t)
	if name != "finished" || !strings.Contains(data, `"status":"finished"`) || !strings.Contains(data, "stopped from the dashboard") {
		t.Fatalf("last event %q %s", name, data)
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Finish did not return after the page got the final state")
	}
	if _, err := http.Get(b + "/api/state"); err == nil {
		t.Error("the server still answers after Finish")
	}
}

func TestPageAndAssetsAreEmbedded(t *testing.T) {
	f := newFixture(0)
	s, _ := startServer(t, f, "")
	b := base(s)
	for path, want := range map[string]string{
		"/":                 `<script src="assets/app.js">`,
		"/assets/app.js":    "new EventSource(",
		"/assets/style.css": "canvas.chart",
	} {
		code, body := do(t, http.MethodGet, b+path, nil, "")
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want 200 containing %q", path, code, want)
		}
		for _, ext := range []string{"http://", "https://", "//cdn"} {
			if strings.Contains(body, ext) {
				t.Errorf("%s refers to %q: the dashboard must work offline", path, ext)
			}
		}
	}
}

func TestHistoryIsBounded(t *testing.T) {
	f := newFixture(0)
	s, _ := startServer(t, f, "")
	for i := 1; i <= 2*maxInitPoints+10; i++ {
		s.Tick(f.t0.Add(time.Duration(i) * time.Second))
	}
	s.mu.Lock()
	kept, init := len(s.points), s.initLocked()
	s.mu.Unlock()
	if kept > 2*maxInitPoints || len(init.Points) != maxInitPoints || init.Points[maxInitPoints-1].T != float64(2*maxInitPoints+10) {
		t.Fatalf("kept %d points, sent %d ending at %v; want at most %d kept and the last %d sent", kept, len(init.Points), init.Points[len(init.Points)-1].T, 2*maxInitPoints, maxInitPoints)
	}
}
