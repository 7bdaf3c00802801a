package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgeload/surge/internal/dashboard"
)

// cdashBuf is an output buffer the test reads while surge writes it.
type cdashBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *cdashBuf) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}

func (c *cdashBuf) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

type cdashRun struct {
	code     int
	out, err *cdashBuf
	done     chan struct{}
}

// cdashMain runs surge in-process in the background.
func cdashMain(t *testing.T, ctx context.Context, args ...string) *cdashRun {
	r := &cdashRun{out: &cdashBuf{}, err: &cdashBuf{}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = Main(ctx, r.out, r.err, args)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Errorf("surge %s did not return", args[0])
		}
		if t.Failed() {
			t.Logf("surge %s stderr:\n%s", args[0], r.err)
		}
	})
	return r
}

var cdashListen = regexp.MustCompile(`listening on (\S+) for`)

// cdashCluster runs a master with --dashboard=ADDR and two workers, all
// in this process, at 60 requests/s for dur; it returns the master and
// the dashboard's address once the workers were started.
func cdashCluster(t *testing.T, dur string) (*cdashRun, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	srv := dashTarget(t)
	addr := dashFreeAddr(t)
	m := cdashMain(t, ctx, "master", "--listen", "127.0.0.1:0", "--token", "tok", "--expect-workers", "2", "--quiet", "--no-save",
		"--url", srv.URL, "--rate", "60", "-d", dur, "--dashboard="+addr)
	var master string
	for deadline := time.Now().Add(20 * time.Second); master == ""; time.Sleep(20 * time.Millisecond) {
		if mm := cdashListen.FindStringSubmatch(m.err.String()); mm != nil {
			master = mm[1]
		}
		select {
		case <-m.done:
			t.Fatalf("the master exited with %d:\n%s", m.code, m.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master did not listen for workers:\n%s", m.err)
		}
	}
	for i := range 2 {
		cdashMain(t, ctx, "worker", "--master", master, "--token", "tok", "--name", fmt.Sprint("w", i))
	}
	return m, addr
}

// cdashState reads the dashboard's state; ok is false while it does not
// answer.
func cdashState(addr string) (st struct {
	Distributed bool
	Workers     []dashboard.WorkerRow
}, ok bool) {
	resp, err := http.Get("http://" + addr + "/api/state")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil
}

// TestClusterDashboardWorkers: the master's dashboard lists its two
// workers in /api/state while the run goes, each running with a share of
// the 60 requests/s, its users, CPU and a fresh heartbeat.
func TestClusterDashboardWorkers(t *testing.T) {
	m, addr := cdashCluster(t, "4s")
	var seen []dashboard.WorkerRow
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, ok := cdashState(addr)
		if ok && !st.Distributed {
			t.Fatal("the master's dashboard does not say it is distributed")
		}
		if ok && len(st.Workers) == 2 && st.Workers[0].State == "running" && st.Workers[1].State == "running" && st.Workers[0].RPS > 0 && st.Workers[1].RPS > 0 {
			seen = st.Workers
			break
		}
	}
	if seen == nil {
		t.Fatal("the dashboard never listed 2 running workers with a nonzero req/s")
	}
	for _, w := range seen {
		if !strings.HasPrefix(w.Name, "w") || w.RPS < 10 || w.RPS > 50 || w.Users < 1 || w.HeartbeatAge > 3 || len(w.Segments) != 1 || !strings.HasPrefix(w.Addr, "127.0.0.1:") {
			t.Errorf("worker row %+v: want about 30 req/s (half of 60/s), users, a fresh heartbeat, one segment", w)
		}
	}
	resp, err := http.Get("http://" + addr + "/api/workers.json")
	if err != nil {
		t.Fatal(err)
	}
	var dl struct{ Workers []dashboard.WorkerRow }
	json.NewDecoder(resp.Body).Decode(&dl)
	resp.Body.Close()
	if len(dl.Workers) != 2 {
		t.Errorf("workers.json lists %d workers, want 2", len(dl.Workers))
	}
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the master did not finish")
	}
	if m.code != 0 {
		t.Fatalf("master exit %d", m.code)
	}
}

// TestClusterDashboardWorkersInBrowser: the Workers tab of the master's
// dashboard shows its two workers running, in Chromium.
func TestClusterDashboardWorkersInBrowser(t *testing.T) {
	ctx := dashBrowser(t)
	m, addr := cdashCluster(t, "5s")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := cdashState(addr); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the master's dashboard did not come up")
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/"), chromedp.WaitVisible(chromedp.ID("workers-tab")), chromedp.Click(chromedp.ID("workers-tab"))); err != nil {
		t.Fatal(err)
	}
	rows := `[...document.querySelectorAll('#workers-table tbody tr:not(.empty)')]`
	dashPoll(t, ctx, rows+`.filter(r => r.cells[2].innerText === "running" && parseFloat(r.cells[4].innerText) > 0).length === 2`, 15*time.Second)
	got := dashEval[string](t, ctx, rows+`.map(r => r.cells[0].innerText).sort().join(",")`)
	if got != "w0,w1" {
		t.Errorf("worker rows %q, want w0,w1", got)
	}
	if n := dashEval[string](t, ctx, `document.querySelector('#n-workers').innerText`); n != strconv.Itoa(2) {
		t.Errorf("Workers tab badge %q, want 2", n)
	}
	dashScreenshot(t, ctx, "dashboard-workers.png")
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the master did not finish")
	}
}
