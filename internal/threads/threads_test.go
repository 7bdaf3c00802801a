package threads

import (
	"net"
	"runtime"
	"testing"
)

func TestLocal(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.3.2.1", true},
		{"::1", true},
		{"0.0.0.0", true},
		{"192.0.2.1", false}, // TEST-NET-1: never one of this machine's
		{"2001:db8::1", false},
	}
	for _, tt := range tests {
		if got := local(net.ParseIP(tt.ip)); got != tt.want {
			t.Errorf("local(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
	// An address of one of this machine's interfaces counts too.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
			if !local(n.IP) {
				t.Errorf("local(%s) = false for an address of this machine", n.IP)
			}
		}
	}
}

func TestShare(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 16: 8} {
		if got := Share(cpus); got != want {
			t.Errorf("Share(%d) = %d, want %d", cpus, got, want)
		}
	}
}

// withProcs runs f with GOMAXPROCS at n, restoring it after.
func withProcs(t *testing.T, n int, f func()) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	f()
}

func TestArmLowersOnLocalConnectionAndRestores(t *testing.T) {
	withProcs(t, 4, func() {
		c := Arm()
		c.cpus = 4 // as on a 4-CPU machine, whatever this one has
		Dialed(&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 80})
		if got := runtime.GOMAXPROCS(0); got != 4 {
			t.Fatalf("a remote connection changed GOMAXPROCS to %d", got)
		}
		Dialed(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 80})
		if got := runtime.GOMAXPROCS(0); got != 2 {
			t.Fatalf("GOMAXPROCS = %d after a loopback connection, want 2", got)
		}
		Dialed(&net.TCPAddr{IP: net.ParseIP("::1"), Port: 80}) // decided once
		n, target := c.Release()
		if n != 2 || target != "127.0.0.1:80" {
			t.Errorf("Release() = %d, %q; want 2, 127.0.0.1:80", n, target)
		}
		if got := runtime.GOMAXPROCS(0); got != 4 {
			t.Errorf("GOMAXPROCS = %d after Release, want 4 restored", got)
		}
	})
}

func TestNothingArmedNothingChanges(t *testing.T) {
	withProcs(t, 4, func() {
		Dialed(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 80})
		HostPort("localhost:80")
		if got := runtime.GOMAXPROCS(0); got != 4 {
			t.Fatalf("GOMAXPROCS = %d without an armed run", got)
		}
	})
}

func TestHostPort(t *testing.T) {
	tests := []struct {
		hostport string
		want     int
	}{
		{"localhost:80", 2},
		{"127.0.0.1:80", 2},
		{"[::1]:80", 2},
		{"example.invalid:80", 0}, // a name: no DNS lookup, no decision
		{"192.0.2.7:80", 0},
		{"127.0.0.1", 0}, // no port: not a connection
	}
	for _, tt := range tests {
		withProcs(t, 4, func() {
			c := Arm()
			c.cpus = 4
			HostPort(tt.hostport)
			n, _ := c.Release()
			if n != tt.want {
				t.Errorf("HostPort(%q): threads %d, want %d", tt.hostport, n, tt.want)
			}
		})
	}
}

// TestOwnServerLeftAlone: a server in this process shares its GOMAXPROCS,
// so the first connection to it settles the choice without lowering it.
func TestOwnServerLeftAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if !ownListener(port) {
		t.Fatalf("ownListener(%d) = false for this process's listener", port)
	}
	withProcs(t, 4, func() {
		c := Arm()
		c.cpus = 4
		Dialed(ln.Addr())
		if got := runtime.GOMAXPROCS(0); got != 4 {
			t.Errorf("GOMAXPROCS = %d after connecting to this process's server, want 4", got)
		}
		Dialed(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 80}) // settled already
		if n, _ := c.Release(); n != 0 {
			t.Errorf("threads %d, want 0 (left alone)", n)
		}
	})
}

func TestTwoRunsRestoreOnLastRelease(t *testing.T) {
	withProcs(t, 4, func() {
		a, b := Arm(), Arm()
		a.cpus, b.cpus = 4, 4
		HostPort("127.0.0.1:80")
		if n, _ := a.Release(); n != 2 {
			t.Errorf("first run: threads %d, want 2", n)
		}
		if got := runtime.GOMAXPROCS(0); got != 2 {
			t.Errorf("GOMAXPROCS = %d while the second run is armed, want 2", got)
		}
		if n, _ := b.Release(); n != 2 {
			t.Errorf("second run: threads %d, want 2", n)
		}
		if got := runtime.GOMAXPROCS(0); got != 4 {
			t.Errorf("GOMAXPROCS = %d after both released, want 4", got)
		}
	})
}

func TestAlreadyFewThreads(t *testing.T) {
	withProcs(t, 1, func() {
		c := Arm()
		c.cpus = 2
		HostPort("127.0.0.1:80")
		if n, _ := c.Release(); n != 0 {
			t.Errorf("threads %d with GOMAXPROCS already 1, want 0 (nothing changed)", n)
		}
	})
}
