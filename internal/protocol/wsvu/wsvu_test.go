package wsvu

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
	"github.com/surgeload/surge/internal/vu"
)

func newState() *vu.State {
	reg := metrics.NewRegistry()
	return vu.New(reg, 1, 0, "default", reg.Intern(metrics.Tag{Key: "scenario", Value: "default"}))
}

func server(t *testing.T) *wstest.Server {
	srv := wstest.Start()
	t.Cleanup(srv.Close)
	return srv
}

func total(st *vu.State, name string, filter ...metrics.Tag) *metrics.Agg {
	st.Registry.Tick(time.Now().Add(time.Hour))
	return st.Registry.Total(st.Registry.Get(name), filter...)
}

// evlog records the events of a session as "kind:data" strings.
type evlog struct {
	mu  sync.Mutex
	evs []string
}

func (l *evlog) add(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ev.Kind.String()
	switch ev.Kind {
	case Message, BinaryMessage:
		s += ":" + string(ev.Data)
	case Close:
		s += ":" + strconv.Itoa(ev.Code) + ev.Reason
	}
	l.evs = append(l.evs, s)
}

func (l *evlog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.evs, " ")
}

func TestConnectEcho(t *testing.T) {
	srv := server(t)
	st := newState()
	var l evlog
	p := Params{Headers: http.Header{"X-Test": {"42"}}, Subprotocols: []string{"superchat"}}
	resp, err := Connect(bounded(t), st, srv.URL+"/echo", p, func(s *Socket) {
		for k := Open; k < numKinds; k++ {
			s.On(k, l.add)
		}
		s.On(Open, func(Event) {
			s.Send("hello")
			s.SendBinary([]byte("bin"))
		})
		s.On(BinaryMessage, func(Event) { s.Close(0) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.String(), "open message:hello binaryMessage:bin close:1000"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if resp.Status != 101 || resp.Subprotocol != "superchat" || resp.Headers.Get("X-Echo-Test") != "42" {
		t.Errorf("response %+v", resp)
	}
	url := metrics.Tag{Key: "url", Value: srv.URL + "/echo"}
	for name, want := range map[string]float64{"ws_sessions": 1, "ws_msgs_sent": 2, "ws_msgs_received": 2} {
		if got := total(st, name, url, metrics.Tag{Key: "status", Value: "101"}, metrics.Tag{Key: "subproto", Value: "superchat"}).Sum; got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"ws_connecting", "ws_session_duration"} {
		if a := total(st, name, url); a.Count != 1 || a.Max <= 0 {
			t.Errorf("%s count %d max %v", name, a.Count, a.Max)
		}
	}
}

func TestTimersAndPing(t *testing.T) {
	srv := server(t)
	st := newState()
	var l evlog
	ticks, echoes := 0, 0
	_, err := Connect(bounded(t), st, srv.URL+"/echo", Params{}, func(s *Socket) {
		s.On(Pong, l.add)
		s.On(Message, l.add)
		s.On(Open, func(Event) {
			s.Ping()
			s.SetInterval(func() {
				ticks++
				s.Send("tick")
			}, 5*time.Millisecond)
		})
		s.On(Message, func(Event) {
			if echoes++; echoes == 3 {
				s.SetTimeout(func() { s.Close(0) }, 20*time.Millisecond)
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(l.String(), "pong") || !strings.Contains(l.String(), "message:tick message:tick message:tick") {
		t.Errorf("events %q, want a pong and three ticks", l.String())
	}
	if a := total(st, "ws_ping"); a.Count != 1 || a.Max <= 0 {
		t.Errorf("ws_ping count %d max %v, want one round trip", a.Count, a.Max)
	}
}

func TestServerPingAndClose(t *testing.T) {
	srv := server(t)
	st := newState()
	var l evlog
	_, err := Connect(bounded(t), st, srv.URL+"/ping", Params{}, func(s *Socket) {
		s.On(Ping, func(ev Event) {
			l.add(ev)
			s.Close(0)
		})
	})
	if err != nil || l.String() != "ping" {
		t.Errorf("events %q err %v, want a ping from the server", l.String(), err)
	}
	var c evlog
	_, err = Connect(bounded(t), st, srv.URL+"/close", Params{}, func(s *Socket) {
		s.On(Open, func(Event) { s.Send("x") })
		s.On(Close, c.add)
		s.On(Error, c.add)
	})
	if err != nil || c.String() != "close:4000bye" {
		t.Errorf("events %q err %v, want the server's close code and reason", c.String(), err)
	}
}

func TestServerGone(t *testing.T) {
	srv := server(t)
	st := newState()
	var l evlog
	_, err := Connect(bounded(t), st, srv.URL+"/drop", Params{}, func(s *Socket) {
		s.On(Open, func(Event) { s.Send("x") })
		s.On(Error, l.add)
		s.On(Close, l.add)
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.String() != "error close:1006" {
		t.Errorf("events %q, want error then an abnormal close", l.String())
	}
	if n := st.Registry.Errors.Count("ws"); n != 1 {
		t.Errorf("errors counted %d, want 1", n)
	}
	// The VU goes on.
	var again evlog
	if _, err := Connect(bounded(t), st, srv.URL+"/echo", Params{}, func(s *Socket) {
		s.On(Open, func(Event) { s.Send("back") })
		s.On(Message, func(ev Event) { again.add(ev); s.Close(0) })
	}); err != nil || again.String() != "message:back" {
		t.Errorf("next session: %q %v", again.String(), err)
	}
}

func TestContextEndsSession(t *testing.T) {
	srv := server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var l evlog
	done := make(chan struct{})
	go func() {
		defer close(done)
		Connect(ctx, newState(), srv.URL+"/echo", Params{}, func(s *Socket) { s.On(Close, l.add) })
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session outlived its context")
	}
	if l.String() != "close:1001" { // going away
		t.Errorf("events %q", l.String())
	}
}

func TestBroadcastStartMode(t *testing.T) {
	srv := server(t)
	var a, b evlog
	got := make(chan string, 4)
	open := func(l *evlog) *Socket {
		s, _, err := Dial(context.Background(), newState(), srv.URL+"/broadcast", Params{})
		if err != nil {
			t.Fatal(err)
		}
		s.Start(func(ev Event) {
			if ev.Socket != s {
				t.Errorf("event of another socket")
			}
			l.add(ev)
			if ev.Kind == Message {
				got <- string(ev.Data)
			}
		})
		return s
	}
	sa, sb := open(&a), open(&b)
	deadline := time.After(5 * time.Second)
	wait := func(want string) {
		for {
			select {
			case m := <-got:
				if m == want {
					return
				}
			case <-deadline:
				t.Fatalf("broadcast: no %q; a %q, b %q", want, a.String(), b.String())
			}
		}
	}
	// A client is registered once it has its own greeting back.
	sa.Send("hi-a")
	wait("hi-a")
	sb.Send("hi-b")
	wait("hi-b")
	sa.Send("all")
	wait("all")
	wait("all")
	sa.Close(0)
	sb.Close(0)
	if !strings.Contains(a.String(), "message:all") || !strings.Contains(b.String(), "message:all") {
		t.Errorf("a %q, b %q: both should get the broadcast", a.String(), b.String())
	}
}

func TestBadInput(t *testing.T) {
	srv := server(t)
	tlsSrv := httptest.NewUnstartedServer(wstest.Handler())
	tlsSrv.Config.ErrorLog = quietLog
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	wss := "wss" + strings.TrimPrefix(tlsSrv.URL, "https")
	tests := []struct {
		name   string
		url    string
		p      Params
		want   string
		status int
	}{
		{"not ws", "http://127.0.0.1/", Params{}, `connecting to "http://127.0.0.1/": want a ws:// or wss:// URL`, 0},
		{"no page", srv.URL + "/nope", Params{}, "expected handshake response status code 101 but got 404", 404},
		{"nobody listening", "ws://127.0.0.1:1/", Params{}, "connect: connection refused", 0},
		{"untrusted certificate", wss + "/echo", Params{}, "tls: failed to verify certificate: x509: certificate signed by unknown authority", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := Connect(bounded(t), newState(), tc.url, tc.p, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.status != 0 && (resp == nil || resp.Status != tc.status) {
				t.Errorf("response %+v, want status %d", resp, tc.status)
			}
		})
	}
	if _, err := ParseEvent("mesage"); err == nil || !strings.Contains(err.Error(), `unknown socket event "mesage"`) {
		t.Errorf("ParseEvent: %v", err)
	}
	// Trusting the server's certificate works.
	var l evlog
	_, err := Connect(bounded(t), newState(), wss+"/echo", Params{TLS: &tls.Config{RootCAs: poolOf(tlsSrv)}}, func(s *Socket) {
		s.On(Open, func(Event) { s.Send("secure") })
		s.On(Message, func(ev Event) { l.add(ev); s.Close(0) })
	})
	if err != nil || l.String() != "message:secure" {
		t.Errorf("wss with a trusted certificate: %q %v", l.String(), err)
	}
}

// bounded is a context that ends a session a broken test would leave open.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
