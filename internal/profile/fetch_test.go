package profile

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	httppprof "net/http/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pprofServer serves this test process's net/http/pprof handlers on
// loopback, as a Go service would.
func pprofServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/debug/pprof"
}

var spinSink atomic.Uint64

//go:noinline
func spinForProfile(stop <-chan struct{}) {
	x := uint64(1)
	for {
		for i := 0; i < 1e5; i++ {
			x = x*6364136223846793005 + 1
		}
		spinSink.Store(x)
		select {
		case <-stop:
			return
		default:
		}
	}
}

func spin(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { spinForProfile(stop); close(done) }()
	t.Cleanup(func() { close(stop); <-done })
}

func TestFetchKinds(t *testing.T) {
	base := pprofServer(t)
	spin(t)
	for _, kind := range []string{"cpu", "heap", "allocs", "goroutine", "mutex", "block"} {
		t.Run(kind, func(t *testing.T) {
			p, err := Fetch(context.Background(), base, kind, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckValid(); err != nil {
				t.Fatal(err)
			}
			switch kind {
			case "cpu":
				if f := TopFunctions(p, 0); !hasFunc(f, "spinForProfile") {
					t.Fatalf("CPU profile lacks the spinning function: %v", names(f, 5))
				}
			case "heap":
				if _, err := ValueIndex(p, "inuse_space"); err != nil {
					t.Fatal(err)
				}
				if _, err := ValueIndex(p, "alloc_space"); err != nil {
					t.Fatal(err)
				}
			case "goroutine":
				if len(p.Sample) == 0 {
					t.Fatal("goroutine profile has no samples")
				}
			}
		})
	}
}

func TestURLSessionCutsAndStops(t *testing.T) {
	base := pprofServer(t)
	spin(t)
	ss, err := Start(context.Background(), Target{URL: base}, Options{Chunk: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := ss.Cut()
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ss.Stop()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []*struct{ f []FuncShare }{{TopFunctions(p1, 0)}, {TopFunctions(p2, 0)}} {
		if !hasFunc(p.f, "spinForProfile") {
			t.Errorf("cut %d lacks the spinning function: %v", i, names(p.f, 5))
		}
	}
	if _, err := ss.Cut(); err == nil {
		t.Error("Cut after Stop succeeded")
	}
}

func TestUnreachableURLIsOneLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens here now
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"start", func() error {
			_, err := Start(context.Background(), Target{URL: "http://" + addr + "/debug/pprof"}, Options{})
			return err
		}, "connection refused"},
		{"fetch", func() error {
			_, err := Fetch(context.Background(), "http://"+addr+"/debug/pprof", "heap", 0)
			return err
		}, "connection refused"},
		{"kind", func() error {
			_, err := Fetch(context.Background(), "http://"+addr+"/debug/pprof", "cpuu", 0)
			return err
		}, `unknown profile kind "cpuu"`},
		{"404", func() error {
			srv := httptest.NewServer(http.NotFoundHandler())
			defer srv.Close()
			_, err := Start(context.Background(), Target{URL: srv.URL + "/nope"}, Options{})
			return err
		}, "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func hasFunc(fs []FuncShare, sub string) bool {
	for _, f := range fs {
		if strings.Contains(f.Name, sub) && f.Total > 0 {
			return true
		}
	}
	return false
}

func names(fs []FuncShare, n int) []string {
	var out []string
	for i, f := range fs {
		if i == n {
			break
		}
		out = append(out, f.Name)
	}
	return out
}
