package output

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// lineRE is InfluxDB's line protocol for the points surge writes:
// measurement,tags fields timestamp (no InfluxDB server is packaged here,
// so the receiver checks the grammar itself).
var lineRE = regexp.MustCompile(`^([a-z_]+)((?:,(?:[^,= ]|\\[,= ])+=(?:[^,= ]|\\[,= ])+)*) ((?:[a-z0-9]+=[-0-9.e+]+i?,?)+) (\d+)$`)

func TestInfluxWritesLineProtocol(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg := metrics.NewRegistry()
	start := time.Unix(1800000000, 0)
	reg.Start(start, 0)
	tags := reg.Intern(metrics.Tag{Key: "name", Value: "/api/items, all"}, metrics.Tag{Key: "status", Value: "200"})
	o, err := NewInflux(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for sec := 0; sec < 3; sec++ {
		for i := 0; i < 10; i++ {
			reg.Shard(0).Add(reg.Builtin.HTTPReqs, tags, 1)
			reg.Shard(0).Add(reg.Builtin.HTTPReqDuration, tags, 5)
		}
		now := start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		reg.Tick(now)
		if err := o.Tick(reg, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Close(nil); err != nil {
		t.Fatal(err)
	}
	if len(queries) == 0 || !strings.Contains(queries[0], "db=surge") || !strings.Contains(queries[0], "precision=s") {
		t.Errorf("write queries %v", queries)
	}
	var reqs int
	for _, l := range lines {
		m := lineRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("not line protocol: %q", l)
			continue
		}
		if m[1] == "http_reqs" {
			reqs++
			if !strings.Contains(m[2], `name=/api/items\,\ all`) || !strings.Contains(m[3], "value=10") {
				t.Errorf("http_reqs line %q", l)
			}
		}
	}
	if reqs != 3 {
		t.Errorf("%d http_reqs points, want one per second (3)", reqs)
	}
}

func TestInfluxErrors(t *testing.T) {
	if _, err := NewInflux("not a url"); err == nil || !strings.Contains(err.Error(), "want a write URL") {
		t.Errorf("bad URL: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database not found", http.StatusNotFound)
	}))
	defer srv.Close()
	reg := metrics.NewRegistry()
	start := time.Now()
	reg.Start(start, 0)
	reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
	reg.Tick(start.Add(time.Second))
	o, _ := NewInflux(srv.URL + "/write?db=nope")
	if err := o.Tick(reg, start.Add(time.Second)); err != nil {
		t.Errorf("a failed write stopped the tick: %v", err)
	}
	reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
	reg.Tick(start.Add(2 * time.Second))
	if err := o.Tick(reg, start.Add(2*time.Second)); err != nil {
		t.Errorf("a failed write stopped the tick: %v", err)
	}
	// seconds 1 and 2, written at the second tick and at Close
	want := "influxdb output: 2 of 2 writes failed, the first: 404 Not Found: database not found"
	if err := o.Close(nil); err == nil || err.Error() != want {
		t.Errorf("Close: %v, want %q (one line, counted, with the server's answer)", err, want)
	}
}

// TestInfluxSlowServerDoesNotHoldTheTick: writes leave from their own
// goroutine, so ticks return while the server has not answered any of
// them; once it answers, Close writes every second, in order.
func TestInfluxSlowServerDoesNotHoldTheTick(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var answered, reqs int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		<-release
		mu.Lock()
		answered++
		reqs += strings.Count(string(body), "http_reqs ")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg := metrics.NewRegistry()
	start := time.Unix(1800000000, 0)
	reg.Start(start, 0)
	o, err := NewInflux(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for sec := range 5 {
		reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
		now := start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		reg.Tick(now)
		if err := o.Tick(reg, now); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	early := answered
	mu.Unlock()
	if early != 0 {
		t.Fatalf("%d writes answered before the server was released: the test cannot tell", early)
	}
	close(release) // every tick returned while the first write still waited
	if err := o.Close(nil); err != nil {
		t.Fatal(err)
	}
	if reqs != 5 {
		t.Errorf("%d http_reqs points written, want 5 (one per second)", reqs)
	}
}
