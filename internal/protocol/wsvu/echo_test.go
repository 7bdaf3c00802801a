package wsvu

import (
	"context"
	"testing"
)

func TestEchoVU(t *testing.T) {
	srv := server(t)
	st := newState()
	v := NewEchoVU(st, srv.URL+"/echo", Params{}, []byte("ping"), false)
	for i := 0; i < 20; i++ {
		v.RunIteration(context.Background())
	}
	v.Stop(context.Background())
	for name, want := range map[string]float64{"ws_sessions": 1, "ws_msgs_sent": 20, "ws_msgs_received": 20} {
		if got := total(st, name).Sum; got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
	if n := total(st, "ws_session_duration").Count; n != 1 {
		t.Errorf("ws_session_duration count %d, want 1", n)
	}

	// A server that pings: the echo VU answers and carries on.
	st = newState()
	v = NewEchoVU(st, srv.URL+"/ping", Params{}, []byte("x"), false)
	for i := 0; i < 10; i++ {
		v.RunIteration(context.Background())
	}
	v.Stop(context.Background())
	if got := total(st, "ws_msgs_received").Sum; got != 10 {
		t.Errorf("pinged: ws_msgs_received %v, want 10", got)
	}

	// A server that drops the connection: each failure is counted and the
	// next iteration opens a new session.
	st = newState()
	v = NewEchoVU(st, srv.URL+"/drop", Params{}, []byte("x"), true)
	for i := 0; i < 3; i++ {
		v.RunIteration(context.Background())
	}
	if got := total(st, "ws_sessions").Sum; got != 3 {
		t.Errorf("ws_sessions %v, want 3 (one per failed round trip)", got)
	}
	if got := total(st, "ws_msgs_received").Sum; got != 0 {
		t.Errorf("ws_msgs_received %v, want 0", got)
	}
	if n := st.Registry.Errors.Count("ws"); n != 3 {
		t.Errorf("errors %d, want 3", n)
	}
}
