package js

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// concurrencyServer answers after a pause and remembers the most requests
// it had in flight at once.
type concurrencyServer struct {
	srv          *httptest.Server
	now, most, n atomic.Int64
}

func newConcurrencyServer(t *testing.T, pause time.Duration) *concurrencyServer {
	cs := &concurrencyServer{}
	cs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.n.Add(1)
		in := cs.now.Add(1)
		for {
			m := cs.most.Load()
			if in <= m || cs.most.CompareAndSwap(m, in) {
				break
			}
		}
		time.Sleep(pause)
		cs.now.Add(-1)
		w.Write([]byte(r.URL.Query().Get("i")))
	}))
	t.Cleanup(cs.srv.Close)
	return cs
}

// TestBatchRunsInParallel: http.batch sends its requests at once, within
// options.batch and options.batchPerHost (k6's defaults 20 and 6), and
// returns the responses in the argument's order or keys.
func TestBatchRunsInParallel(t *testing.T) {
	cases := []struct {
		name, opts string
		n          int
		wantMost   int64
	}{
		{"defaults: 6 per host", `{iterations: 1}`, 10, 6},
		{"batchPerHost 3", `{iterations: 1, batchPerHost: 3}`, 8, 3},
		{"batch 2 bounds all", `{iterations: 1, batch: 2, batchPerHost: 0}`, 6, 2},
		{"no bounds", `{iterations: 1, batch: 0, batchPerHost: 0}`, 7, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs := newConcurrencyServer(t, 150*time.Millisecond)
			src := `import http from "k6/http";
import { fail } from "k6";
export const options = ` + c.opts + `;
export default function () {
  const reqs = [];
  for (let i = 0; i < ` + strconv.Itoa(c.n) + `; i++) reqs.push(["GET", __ENV.BASE + "/?i=" + i, null, { tags: { name: "b" } }]);
  const rs = http.batch(reqs);
  rs.forEach((r, i) => { if (r.status !== 200 || r.body !== String(i)) fail("response " + i + ": " + r.status + " " + r.body); });
  const o = http.batch({ first: __ENV.BASE + "/?i=first", second: { method: "GET", url: __ENV.BASE + "/?i=second" } });
  if (o.first.body !== "first" || o.second.body !== "second") fail("keyed batch: " + o.first.body + " " + o.second.body);
}`
			res, reg := run(t, src, Config{Env: map[string]string{"BASE": cs.srv.URL}}, engine.SharedIterations{VUs: 1, Iterations: 1})
			if res.Exceptions != 0 {
				entries, _ := reg.Errors.Entries()
				t.Fatalf("exceptions: %+v", entries)
			}
			if got := cs.most.Load(); got != c.wantMost {
				t.Errorf("at most %d requests in flight, want %d", got, c.wantMost)
			}
			if got := reg.Total(reg.Builtin.HTTPReqs, metrics.Tag{Key: "name", Value: "b"}).Sum; got != float64(c.n) {
				t.Errorf("http_reqs{name:b} = %v, want %d", got, c.n)
			}
			if got := cs.n.Load(); got != int64(c.n+2) {
				t.Errorf("server saw %d requests, want %d", got, c.n+2)
			}
		})
	}
}

// TestBatchBadRequest: a null element is a script error that names itself,
// and nothing is sent.
func TestBatchBadRequest(t *testing.T) {
	cs := newConcurrencyServer(t, 0)
	src := `import http from "k6/http";
export const options = { iterations: 1 };
export default function () { http.batch([__ENV.BASE + "/", null]); }`
	res, reg := run(t, src, Config{Env: map[string]string{"BASE": cs.srv.URL}}, engine.SharedIterations{VUs: 1, Iterations: 1})
	if res.Exceptions != 1 {
		t.Fatalf("exceptions %d, want 1", res.Exceptions)
	}
	entries, _ := reg.Errors.Entries()
	if len(entries) != 1 || !strings.Contains(entries[0].Message, "http.batch: a request is null") {
		t.Errorf("errors %+v", entries)
	}
	if n := cs.n.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}
