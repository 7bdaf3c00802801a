package httpc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns a connected client countConn and the server's end.
func tcpPair(t *testing.T) (*countConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { nc.Close(); srv.Close() })
	return newCountConn(nc), srv
}

// TestSendThenReadShortWrite: a request larger than the socket buffers
// can take at once is written in part by the raw write and the rest the
// ordinary way, and the response is read after it.
func TestSendThenReadShortWrite(t *testing.T) {
	c, srv := tcpPair(t)
	// 4 MiB: far more than one write(2) puts in loopback's socket buffers
	// (16 KiB to send, 128 KiB to receive by default) while the server
	// does not read
	req := bytes.Repeat([]byte("x"), 4<<20)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the buffers fill
		if _, err := io.ReadFull(srv, make([]byte, len(req))); err != nil {
			return
		}
		srv.Write([]byte("ok"))
	}()
	c.sendThenRead(req)
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "ok" {
		t.Fatalf("Read = %q, %v; want ok", buf[:n], err)
	}
	sent, tw := c.sent, c.sentAt()
	if sent != len(req) || c.nw != int64(len(req)) || tw.IsZero() {
		t.Errorf("written %d (counted %d) at %v, want %d", sent, c.nw, tw, len(req))
	}
}

// TestRawReadErrors: the raw read reports the end of the stream as io.EOF
// and a reset as net.Conn does (a *net.OpError "read"), and a deadline as
// a timeout.
func TestRawReadErrors(t *testing.T) {
	c, srv := tcpPair(t)
	srv.Close()
	if _, err := c.Read(make([]byte, 8)); err != io.EOF {
		t.Errorf("read after the peer closed: %v, want io.EOF", err)
	}

	c, srv = tcpPair(t)
	srv.(*net.TCPConn).SetLinger(0) // close with RST
	c.sendThenRead([]byte("GET / HTTP/1.1\r\n\r\n"))
	go func() {
		io.ReadFull(srv, make([]byte, 4))
		srv.Close()
	}()
	_, err := c.Read(make([]byte, 8))
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "read" {
		t.Errorf("read after a reset: %v (%T), want a *net.OpError read", err, err)
	}

	c, _ = tcpPair(t)
	c.SetDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = c.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past the deadline: %v, want a timeout", err)
	}
}
