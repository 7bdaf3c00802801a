package httpc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func redirectServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/to/"): // /to/STATUS/rest → /rest
			var status int
			rest, _ := strings.CutPrefix(r.URL.Path, "/to/")
			fmt.Sscanf(rest, "%d", &status)
			w.Header().Set("Location", rest[strings.IndexByte(rest, '/'):])
			w.WriteHeader(status)
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case r.URL.Path == "/abs":
			http.Redirect(w, r, "http://"+r.Host+"/echo?from=abs", http.StatusMovedPermanently)
		default:
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirects(t *testing.T) {
	srv := redirectServer(t)
	tests := []struct {
		name, method, path, body string
		max                      int
		status, redirects        int
		want, finalPath          string
	}{
		{"302 GET", "GET", "/to/302/echo", "", 10, 200, 1, "GET /echo ", "/echo"},
		{"301 POST becomes GET", "POST", "/to/301/echo", "data", 10, 200, 1, "GET /echo ", "/echo"},
		{"303 POST becomes GET", "POST", "/to/303/echo", "data", 10, 200, 1, "GET /echo ", "/echo"},
		{"307 keeps POST and body", "POST", "/to/307/echo", "data", 10, 200, 1, "POST /echo data", "/echo"},
		{"308 keeps PUT and body", "PUT", "/to/308/echo", "data", 10, 200, 1, "PUT /echo data", "/echo"},
		{"two hops", "GET", "/to/302/to/307/echo", "", 10, 200, 2, "GET /echo ", "/echo"},
		{"absolute Location", "GET", "/abs", "", 10, 200, 1, "GET /echo?from=abs ", "/echo?from=abs"},
		{"not followed", "GET", "/to/302/echo", "", 0, 302, 0, "", "/to/302/echo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{MaxRedirects: tt.max})
			defer c.CloseIdle()
			resp := do(t, c, &Request{Method: tt.method, URL: srv.URL + tt.path, Body: []byte(tt.body)})
			if resp.Status != tt.status || resp.Redirects != tt.redirects || string(resp.Body) != tt.want {
				t.Errorf("got %d after %d redirects, body %q; want %d after %d, %q", resp.Status, resp.Redirects, resp.Body, tt.status, tt.redirects, tt.want)
			}
			if resp.URL != srv.URL+tt.finalPath {
				t.Errorf("URL %q, want %q", resp.URL, srv.URL+tt.finalPath)
			}
		})
	}
}

func TestRedirectLoopStops(t *testing.T) {
	srv := redirectServer(t)
	c := New(Config{MaxRedirects: 5})
	defer c.CloseIdle()
	var resp Response
	err := c.Do(context.Background(), &Request{URL: srv.URL + "/loop"}, &resp)
	if err == nil || !strings.Contains(err.Error(), `stopped after 5 redirects (MaxRedirects); last Location "/loop"`) {
		t.Fatalf("err %v, want a redirect-limit error", err)
	}
	if resp.Status != 302 || resp.Redirects != 5 || resp.ErrorCode != CodeGeneric {
		t.Errorf("status %d, %d redirects, code %d; want 302, 5, %d", resp.Status, resp.Redirects, resp.ErrorCode, CodeGeneric)
	}
	if resp.Timings.Duration <= 0 {
		t.Errorf("Duration %v, want the hops' time summed", resp.Timings.Duration)
	}
}

func TestCookiesAreKeptPerClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc123", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark mode", Path: "/"})
			http.Redirect(w, r, "/me", http.StatusFound)
		default:
			var parts []string
			for _, c := range r.Cookies() {
				parts = append(parts, c.Name+"="+c.Value)
			}
			fmt.Fprint(w, strings.Join(parts, ","))
		}
	}))
	defer srv.Close()

	vu1 := New(DefaultConfig())
	defer vu1.CloseIdle()
	if resp := do(t, vu1, &Request{URL: srv.URL + "/login"}); string(resp.Body) != "session=abc123,theme=dark mode" {
		t.Errorf("after login redirect: cookies %q", resp.Body)
	}
	if resp := do(t, vu1, &Request{URL: srv.URL + "/me"}); string(resp.Body) != "session=abc123,theme=dark mode" {
		t.Errorf("next request: cookies %q", resp.Body)
	}
	vu2 := New(DefaultConfig())
	defer vu2.CloseIdle()
	if resp := do(t, vu2, &Request{URL: srv.URL + "/me"}); string(resp.Body) != "" {
		t.Errorf("another VU's client sent %q, want no cookies", resp.Body)
	}
	noJar := New(Config{MaxRedirects: 10})
	defer noJar.CloseIdle()
	if resp := do(t, noJar, &Request{URL: srv.URL + "/login"}); string(resp.Body) != "" {
		t.Errorf("with Cookies off the client sent %q", resp.Body)
	}
}

func TestTargetRedirectSemantics(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
	tests := []struct {
		name, method, location string
		status                 int
		wantMethod, wantURL    string
		wantBody, wantAuth     bool
		wantCT                 bool
	}{
		{"302 POST", "POST", "/b", 302, "GET", "http://a.test/b", false, true, false},
		{"307 POST", "POST", "b", 307, "POST", "http://a.test/dir/b", true, true, true},
		{"other host drops credentials", "GET", "http://other.test/", 302, "GET", "http://other.test/", true, false, true},
		{"HEAD stays HEAD", "HEAD", "/b", 301, "HEAD", "http://a.test/b", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, err := NewTarget(tt.method, "http://a.test/dir/a", h, []byte("body"))
			if err != nil {
				t.Fatal(err)
			}
			to, err := from.redirect(tt.status, tt.location)
			if err != nil {
				t.Fatal(err)
			}
			if to.Method != tt.wantMethod || to.URL.String() != tt.wantURL || (len(to.body) > 0) != tt.wantBody ||
				(to.header.Get("Authorization") != "") != tt.wantAuth || (to.header.Get("Content-Type") != "") != tt.wantCT {
				t.Errorf("got %s %s body=%v auth=%q ct=%q", to.Method, to.URL, len(to.body) > 0, to.header.Get("Authorization"), to.header.Get("Content-Type"))
			}
		})
	}
}

func TestRedirectWithBadLocation(t *testing.T) {
	url := startOneShotServer(t, "HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n")
	c := New(Config{MaxRedirects: 3})
	defer c.CloseIdle()
	var resp Response
	err := c.Do(context.Background(), &Request{URL: url}, &resp)
	if err == nil || !strings.Contains(err.Error(), `following redirect: bad Location "http://[::1"`) || resp.Status != 302 {
		t.Errorf("status %d, err %v; want 302 and a bad-Location error", resp.Status, err)
	}
}

func TestOnRedirectSeesEveryHop(t *testing.T) {
	srv := redirectServer(t)
	type hop struct {
		method, url string
		status      int
		timed       bool
	}
	var hops []hop
	c := New(Config{MaxRedirects: 10, OnRedirect: func(r *Response) {
		hops = append(hops, hop{r.Method, r.URL, r.Status, r.Timings.Duration > 0 && r.BytesReceived > 0})
	}})
	defer c.CloseIdle()
	resp := do(t, c, &Request{Method: "POST", URL: srv.URL + "/to/307/to/303/echo", Body: []byte("x")})
	want := []hop{
		{"POST", srv.URL + "/to/307/to/303/echo", 307, true},
		{"POST", srv.URL + "/to/303/echo", 303, true},
	}
	if fmt.Sprint(hops) != fmt.Sprint(want) {
		t.Errorf("hops %v, want %v", hops, want)
	}
	if resp.Method != "GET" || resp.URL != srv.URL+"/echo" || resp.Status != 200 || resp.Redirects != 2 || string(resp.Body) != "GET /echo " {
		t.Errorf("final: %s %s %d after %d redirects, %q", resp.Method, resp.URL, resp.Status, resp.Redirects, resp.Body)
	}
	if resp.BytesReceived > 200 {
		t.Errorf("final BytesReceived %d: want the last hop only", resp.BytesReceived)
	}
}
