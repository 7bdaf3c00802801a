// Package threads chooses how many OS threads run the load (GOMAXPROCS)
// when the user did not say (--threads 0).
//
// By default surge runs one thread per CPU, as Go does. When the server
// under test turns out to share the machine (the first connection goes to a
// loopback address or to one of this machine's own addresses, and no
// socket of this process listens on its port), half the CPUs, at least
// one, are left to it: a load generator that takes every
// core competes with the server it measures, and the results measure that
// contention. On a 2-core machine against nginx, one thread served 15–25%
// more requests per second than two, at about 20% less CPU per request,
// for both --url runs and JS scripts.
//
// A server in surge's own process (surge demo, a Go test with httptest) is
// left alone: GOMAXPROCS governs it too.
//
// Protocol clients report their connections with Dialed (or HostPort,
// where only the URL's host is at hand); a run arms the choice with Arm and gets
// back what it decided, for the summary.
package threads

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

var (
	mu       sync.Mutex
	armed    []*Choice // runs waiting for their first connection
	lowered  bool      // GOMAXPROCS was lowered and is restored when armed empties
	previous int       // GOMAXPROCS before it was lowered
	waiting  atomic.Bool
)

// Choice is one run's automatic thread count.
type Choice struct {
	cpus    int
	threads int    // 0: still one per CPU
	target  string // the local address that decided it
	done    bool
}

// Arm makes the next connection to this machine lower GOMAXPROCS to half
// the CPUs, for as long as the returned Choice is not released.
func Arm() *Choice {
	c := &Choice{cpus: runtime.NumCPU()}
	mu.Lock()
	armed = append(armed, c)
	waiting.Store(true)
	mu.Unlock()
	return c
}

// Release ends c's run: it disarms c, and restores GOMAXPROCS when no other
// armed run is left. It reports what was decided: the threads used and the
// local target that made surge leave CPUs to it (0 and "" when none did).
func (c *Choice) Release() (threads int, target string) {
	mu.Lock()
	defer mu.Unlock()
	for i, a := range armed {
		if a == c {
			armed = append(armed[:i], armed[i+1:]...)
			break
		}
	}
	if len(armed) == 0 {
		waiting.Store(false)
		if lowered {
			runtime.GOMAXPROCS(previous)
			lowered = false
		}
	}
	return c.threads, c.target
}

// Decided reports what was decided so far: the threads used and the local
// target that made surge leave CPUs to it (0 and "" when none did).
func (c *Choice) Decided() (threads int, target string) {
	mu.Lock()
	defer mu.Unlock()
	return c.threads, c.target
}

// Note is the sentence for a summary when surge left CPUs to a local
// server, or "".
func (c *Choice) Note() string {
	n, target := c.Decided()
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("threads: %d of %d CPUs run the load; the rest are left to the server under test, which is on this machine (%s); --threads N to choose", n, c.cpus, target)
}

// Share is the number of threads that leaves half of cpus to a server on
// the same machine.
func Share(cpus int) int { return max(1, cpus/2) }

// Dialed reports a connection to addr. The first one to this machine,
// while a run is armed, decides: it lowers GOMAXPROCS unless the server is
// in this process. It costs one atomic load when nothing is armed.
func Dialed(addr net.Addr) {
	if !waiting.Load() {
		return
	}
	if a, ok := addr.(*net.TCPAddr); ok && local(a.IP) {
		decide(a.String(), !ownListener(a.Port))
	}
}

// HostPort reports a connection to hostport (a host name or IP address and
// a port), for clients that do not expose the address they connected to.
// Only literal addresses and "localhost" are recognized: no DNS lookup is
// made.
func HostPort(hostport string) {
	if !waiting.Load() {
		return
	}
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return
	}
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip != nil && local(ip) {
		decide(hostport, !ownListener(port))
	}
}

// decide settles the armed runs' choice on their first connection to this
// machine: lower GOMAXPROCS for target, or (a server in this process) not.
func decide(target string, lower bool) {
	mu.Lock()
	defer mu.Unlock()
	for _, c := range armed {
		if c.done {
			continue
		}
		c.done = true
		if !lower {
			continue
		}
		if lowered {
			c.threads, c.target = runtime.GOMAXPROCS(0), target
			continue
		}
		n, cur := Share(c.cpus), runtime.GOMAXPROCS(0)
		if n >= cur {
			continue // already as few threads: nothing to leave
		}
		previous, lowered = runtime.GOMAXPROCS(n), true
		c.threads, c.target = n, target
	}
	waiting.Store(false)
}

// local reports whether ip is a loopback address or one of this machine's.
func local(ip net.IP) bool {
	if ip.IsLoopback() {
		return true
	}
	if ip.IsUnspecified() {
		return true // 0.0.0.0 reaches this machine
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
