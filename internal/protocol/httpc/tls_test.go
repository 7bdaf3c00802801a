package httpc

import (
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// protoHandler answers with the protocol the server saw, and the client
// certificate's common name if any.
var protoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	cn := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cn = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	if r.URL.Path == "/cookie" {
		http.SetCookie(w, &http.Cookie{Name: "k", Value: "v"})
	}
	ck, _ := r.Cookie("k")
	fmt.Fprintf(w, "%s %s cn=%s cookie=%v", r.Proto, r.Method, cn, ck != nil)
})

// tlsServer starts an HTTPS server with HTTP/2 enabled and returns it with
// a client TLS config that trusts it.
func tlsServer(t *testing.T, h http.Handler, configure func(*tls.Config)) (*httptest.Server, *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.TLS = &tls.Config{}
	if configure != nil {
		configure(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv, &tls.Config{RootCAs: roots}
}

func TestHTTP2OverTLS(t *testing.T) {
	srv, clientTLS := tlsServer(t, protoHandler, nil)
	c := New(Config{TLS: clientTLS, Cookies: true})
	defer c.CloseIdle()
	for i, path := range []string{"/cookie", "/", "/"} {
		resp := do(t, c, &Request{URL: srv.URL + path})
		want := fmt.Sprintf("HTTP/2.0 GET cn= cookie=%v", i > 0)
		if resp.Proto != "HTTP/2.0" || string(resp.Body) != want {
			t.Errorf("request %d: %s %q, want HTTP/2.0 %q", i, resp.Proto, resp.Body, want)
		}
		if tm := resp.Timings; tm.Duration != tm.Sending+tm.Waiting+tm.Receiving || tm.Duration <= 0 {
			t.Errorf("request %d: timings %+v", i, tm)
		}
		if i == 0 && resp.Timings.TLSHandshaking <= 0 {
			t.Errorf("TLSHandshaking %v on a new connection", resp.Timings.TLSHandshaking)
		}
	}
	var resp Response
	if err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Body: []byte("x")}, &resp); err != nil || !strings.HasPrefix(string(resp.Body), "HTTP/2.0 POST") {
		t.Errorf("POST: %q %v", resp.Body, err)
	}
}

func TestHTTP2ConcurrentRequestsShareAConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(protoHandler)
	conns := countConns(srv)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := New(Config{TLS: &tls.Config{InsecureSkipVerify: true}})
	defer c.CloseIdle()
	do(t, c, &Request{URL: srv.URL}) // the connection exists before the burst
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var resp Response
			for range 10 {
				if err := c.Do(context.Background(), &Request{URL: srv.URL}, &resp); err != nil || resp.Proto != "HTTP/2.0" {
					t.Errorf("%s %v", resp.Proto, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1 multiplexed", n)
	}
}

func TestDisableHTTP2KeepsHTTP1OverTLS(t *testing.T) {
	srv, clientTLS := tlsServer(t, protoHandler, nil)
	c := New(Config{TLS: clientTLS, DisableHTTP2: true})
	defer c.CloseIdle()
	resp := do(t, c, &Request{URL: srv.URL})
	if resp.Proto != "HTTP/1.1" || !strings.HasPrefix(string(resp.Body), "HTTP/1.1 GET") {
		t.Errorf("%s %q, want HTTP/1.1", resp.Proto, resp.Body)
	}
}

func TestH2CPriorKnowledge(t *testing.T) {
	srv := httptest.NewServer(h2c.NewHandler(protoHandler, &http2.Server{}))
	defer srv.Close()
	c := New(Config{H2C: true})
	defer c.CloseIdle()
	for range 2 {
		resp := do(t, c, &Request{URL: srv.URL})
		if resp.Proto != "HTTP/2.0" || !strings.HasPrefix(string(resp.Body), "HTTP/2.0 GET") {
			t.Errorf("%s %q, want HTTP/2.0", resp.Proto, resp.Body)
		}
	}
}

func TestTLSErrors(t *testing.T) {
	srv, _ := tlsServer(t, protoHandler, func(cfg *tls.Config) { cfg.MaxVersion = tls.VersionTLS12 })
	tests := []struct {
		name string
		cfg  *tls.Config
		code int
		msg  string
	}{
		{"unknown authority", nil, CodeTLSUnknownAuthority, "certificate signed by unknown authority"},
		{"wrong server name", &tls.Config{ServerName: "surge.invalid", RootCAs: poolOf(srv.Certificate())}, CodeTLSHostname, "surge.invalid"},
		{"versions do not meet", &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}, CodeTLS, "protocol version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{TLS: tt.cfg})
			defer c.CloseIdle()
			var resp Response
			err := c.Do(context.Background(), &Request{URL: srv.URL}, &resp)
			if err == nil || resp.ErrorCode != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("code %d, err %v; want %d and %q", resp.ErrorCode, err, tt.code, tt.msg)
			}
		})
	}
}

func TestClientCertificates(t *testing.T) {
	ca, caKey := newCA(t)
	srv, clientTLS := tlsServer(t, protoHandler, func(cfg *tls.Config) {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = poolOf(ca)
	})
	withCert := clientTLS.Clone()
	withCert.Certificates = []tls.Certificate{newLeaf(t, ca, caKey, "vu-1")}
	c := New(Config{TLS: withCert})
	defer c.CloseIdle()
	if resp := do(t, c, &Request{URL: srv.URL}); resp.Proto != "HTTP/2.0" || string(resp.Body) != "HTTP/2.0 GET cn=vu-1 cookie=false" {
		t.Errorf("with a client certificate: %s %q", resp.Proto, resp.Body)
	}
	for _, disableH2 := range []bool{false, true} {
		c := New(Config{TLS: clientTLS, DisableHTTP2: disableH2})
		var resp Response
		err := c.Do(context.Background(), &Request{URL: srv.URL}, &resp)
		if err == nil || resp.ErrorCode != CodeTLS || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("without a client certificate (h2 off: %v): code %d, err %v; want %d", disableH2, resp.ErrorCode, err, CodeTLS)
		}
		c.CloseIdle()
	}
}

func poolOf(cert *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(cert)
	return p
}

func newCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "surge test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func newLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestHTTP2StreamLimitOpensMoreConnections: a VU with more requests in
// flight than the server's MaxConcurrentStreams gets more connections
// instead of failing or leaking them.
func TestHTTP2StreamLimitOpensMoreConnections(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		w.Write([]byte(r.Proto))
	}))
	conns := countConns(srv)
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2}
	srv.StartTLS()
	defer srv.Close()
	c := New(Config{TLS: &tls.Config{InsecureSkipVerify: true}})
	do(t, c, &Request{URL: srv.URL}) // learn the server's settings
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			var resp Response
			if err := c.Do(context.Background(), &Request{URL: srv.URL}, &resp); err != nil || string(resp.Body) != "HTTP/2.0" {
				t.Errorf("%q %v", resp.Body, err)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n < 3 {
		t.Errorf("server saw %d connections for 6 concurrent requests at 2 streams each, want at least 3", n)
	}
	c.CloseIdle()
	c.mu.Lock()
	left := len(c.hosts["https://"+srv.Listener.Addr().String()].h2)
	c.mu.Unlock()
	if left != 0 {
		t.Errorf("%d HTTP/2 connections left open after CloseIdle", left)
	}
}

func TestHTTP2GzipAndBodyCap(t *testing.T) {
	const text = "compressed over HTTP/2, compressed over HTTP/2, compressed over HTTP/2"
	srv, clientTLS := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(make([]byte, 256<<10))
			return
		}
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "no gzip", 400)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte(text))
		zw.Close()
	}), nil)
	c := New(Config{TLS: clientTLS, Gzip: true, MaxBodyBytes: 64 << 10})
	defer c.CloseIdle()
	if resp := do(t, c, &Request{URL: srv.URL}); resp.Proto != "HTTP/2.0" || string(resp.Body) != text {
		t.Errorf("%s %q, want HTTP/2.0 and the decoded text", resp.Proto, resp.Body)
	}
	var resp Response
	err := c.Do(context.Background(), &Request{URL: srv.URL + "/big"}, &resp)
	if err == nil || !strings.Contains(err.Error(), "MaxBodyBytes") || len(resp.Body) != 64<<10 || resp.Status != 200 {
		t.Errorf("big body: status %d, %d bytes, err %v; want 200, 64 KiB and a MaxBodyBytes error", resp.Status, len(resp.Body), err)
	}
	if resp := do(t, c, &Request{URL: srv.URL}); string(resp.Body) != text {
		t.Errorf("after a capped body the connection still works: %q", resp.Body)
	}
}

func TestTLSHandshakeCountsOnce(t *testing.T) {
	srv := startRawTLSServer(t, jsonResponse)
	c := New(Config{TLS: &tls.Config{InsecureSkipVerify: true}, DisableHTTP2: true})
	defer c.CloseIdle()
	first := do(t, c, &Request{URL: srv.url()})
	second := do(t, c, &Request{URL: srv.url()})
	// The handshake (certificate included) is far larger than one response.
	if first.BytesReceived < second.BytesReceived+300 || first.BytesSent <= second.BytesSent {
		t.Errorf("first request %d/%d bytes sent/received, second %d/%d: want the handshake on the first only",
			first.BytesSent, first.BytesReceived, second.BytesSent, second.BytesReceived)
	}
	if f, s := first.Timings, second.Timings; f.Connecting <= 0 || f.TLSHandshaking <= 0 || s.Connecting != 0 || s.TLSHandshaking != 0 {
		t.Errorf("connecting/TLS: first %v/%v, second %v/%v; want both on the first request only",
			f.Connecting, f.TLSHandshaking, s.Connecting, s.TLSHandshaking)
	}
	if plain := int64(len(jsonResponse)); second.BytesReceived <= plain {
		t.Errorf("second request received %d bytes, want more than the %d-byte response (TLS records)", second.BytesReceived, plain)
	}
}
