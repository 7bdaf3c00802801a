package httpc

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// jsonResponse is the fixed 32-byte JSON response of the raw server, as in
// BENCHMARKS.md.
const jsonResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 32\r\n\r\n" +
	`{"id":1,"name":"item","ok":true}`

// rawServer is a TCP server that answers every request head (anything up
// to a blank line) with the same bytes. It allocates nothing per request,
// so an allocation count taken while it runs is the client's own.
type rawServer struct {
	ln     net.Listener
	scheme string
	resp   []byte
	conns  atomic.Int64
	wg     sync.WaitGroup
}

func startRawServer(tb testing.TB, resp string) *rawServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return serveRaw(tb, ln, "http", resp)
}

// startRawTLSServer is startRawServer behind TLS, with httptest's
// certificate.
func startRawTLSServer(tb testing.TB, resp string) *rawServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cert, key := newCA(tb) // self-signed; clients skip verification
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}}
	return serveRaw(tb, tls.NewListener(ln, cfg), "https", resp)
}

func serveRaw(tb testing.TB, ln net.Listener, scheme, resp string) *rawServer {
	s := &rawServer{ln: ln, scheme: scheme, resp: []byte(resp)}
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) url() string { return s.scheme + "://" + s.ln.Addr().String() + "/api/items" }

func (s *rawServer) serve() {
	defer s.wg.Done()
	var conns []net.Conn
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		s.wg.Add(1)
		go s.handle(c)
	}
}

// handle counts "\r\n\r\n" across reads and writes one response for each.
func (s *rawServer) handle(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	var buf [4096]byte
	const end = "\r\n\r\n"
	matched := 0
	for {
		n, err := c.Read(buf[:])
		if err != nil {
			return
		}
		for _, b := range buf[:n] {
			switch {
			case b == end[matched]:
				matched++
			case b == '\r':
				matched = 1
			default:
				matched = 0
			}
			if matched == len(end) {
				matched = 0
				if _, err := c.Write(s.resp); err != nil {
					return
				}
			}
		}
	}
}
