package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// netns is a network namespace joined to this one by a veth pair:
// hostIP on this side, nsIP inside.
type netns struct {
	name, hostIf, hostIP, nsIP string
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newNetns creates the namespace, or skips the test saying why it cannot.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: network namespaces need root (run the tests as root to partition a worker)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the ip command (iproute2) is not installed")
	}
	id := os.Getpid() % 250
	n := &netns{name: fmt.Sprintf("surge-t%d", os.Getpid()), hostIf: fmt.Sprintf("sgh%d", os.Getpid()%100000),
		hostIP: fmt.Sprintf("10.213.%d.1", id), nsIP: fmt.Sprintf("10.213.%d.2", id)}
	nsIf := fmt.Sprintf("sgn%d", os.Getpid()%100000)
	if err := ipCmd("netns", "add", n.name); err != nil {
		t.Skipf("skipped: cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() { ipCmd("netns", "del", n.name) })
	steps := [][]string{
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nsIP + "/30", "dev", nsIf},
		{"-n", n.name, "link", "set", nsIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { ipCmd("link", "del", n.hostIf) })
	return n
}

// TestClusterNetnsPartition: one worker runs in its own network namespace.
// Bringing its link down partitions it: the master finds it lost by its
// missing heartbeats and gives its share to the other worker; the
// partitioned worker, hearing nothing from its master, stops its load and
// exits within 10 s.
func TestClusterNetnsPartition(t *testing.T) {
	ns := newNetns(t)
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	lis, err := net.Listen("tcp", ns.hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = lis
	srv.Start()
	t.Cleanup(srv.Close)
	m := start(t, "master", "master", "--listen", ns.hostIP+":0", "--token", "tok", "--expect-workers", "2", "--quiet",
		"--url", srv.URL, "--rate", "100", "-d", "8s")
	addr := m.waitLine(t, `listening on (\S+) for`, 30*time.Second)[1]
	inNS := startIn(t, "worker-ns", []string{"ip", "netns", "exec", ns.name}, "worker", "--master", addr, "--token", "tok", "--name", "wns")
	m.waitLine(t, `worker wns is ready`, 30*time.Second)
	host := start(t, "worker-host", "worker", "--master", addr, "--token", "tok", "--name", "whost")
	m.waitLine(t, `started 2 workers`, 30*time.Second)
	time.Sleep(2 * time.Second)
	if err := ipCmd("link", "set", ns.hostIf, "down"); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	m.waitLine(t, `worker wns lost at .*no heartbeat for .*went to whost`, 6*time.Second)
	if d := time.Since(cut); d > 4*time.Second {
		t.Errorf("the partition was noticed after %s, want about 3s", d)
	}
	inNS.wait(t, 12*time.Second)
	if d := inNS.exited.Sub(cut); d > 10*time.Second || !strings.Contains(inNS.stderr(), "lost the master") {
		t.Errorf("the partitioned worker exited %s after the cut, want within 10s, saying it lost the master", d)
	}
	if code := m.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("master exit code %d", code)
	}
	host.wait(t, 10*time.Second)
	// whost's own share is 400; it also ran what was left of wns's after ~5 s
	if r, _ := workerCounts(t, host); r < 500 {
		t.Errorf("whost made %d requests; want its 400 and wns's remaining share", r)
	}
	t.Logf("partition noticed, partitioned worker stopped %s after the cut; %d requests served", inNS.exited.Sub(cut).Truncate(100*time.Millisecond), hits.Load())
}
