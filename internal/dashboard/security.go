package dashboard

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// tokenCookie carries the token after the page was opened with ?token=.
const tokenCookie = "surge_dashboard_token"

// CheckAddr refuses to serve beyond loopback without a token: the dashboard
// can stop the test and shows what it targets. An empty host (":5665")
// means every interface.
func CheckAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: want HOST:PORT, e.g. 127.0.0.1:5665", addr)
	}
	if token == "" && !isLoopback(host) {
		return fmt.Errorf("refusing to serve on %q without a token: binding beyond localhost needs --dashboard-token TOKEN (or use 127.0.0.1:PORT)", addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// guard wraps the handler with the access rules: the token when one is
// set, a loopback Host header when none is (against DNS rebinding), and
// net/http's cross-origin protection for every non-GET request.
func guard(token string, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	next = cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			if !isLoopback(host) {
				http.Error(w, "dashboard: forbidden Host header "+r.Host+" (a tokenless dashboard answers only to localhost)", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case sameToken(r.URL.Query().Get("token"), token):
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		case sameToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), token):
		case cookieToken(r, token):
		default:
			http.Error(w, "dashboard: missing or wrong token: open the URL surge printed (it carries ?token=), or send Authorization: Bearer TOKEN", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cookieToken(r *http.Request, token string) bool {
	c, err := r.Cookie(tokenCookie)
	return err == nil && sameToken(c.Value, token)
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
