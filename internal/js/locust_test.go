package js

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// fastLocustfile is the seed's locustfile translated, with no wait so that
// a short test runs thousands of tasks.
func fastLocustfile(t *testing.T, wait string) string {
	b, err := os.ReadFile("../../examples/locust/locustfile.js")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "wait: between(1, 3)", "wait: "+wait, 1)
	src = strings.Replace(src, `import { between } from "surge/locust";`, `import { between, constant } from "surge/locust";`, 1)
	src = strings.Replace(src, "export function shape", "function unusedShape", 1)
	if src == string(b) {
		t.Fatal("locustfile changed shape; update the test")
	}
	return src
}

func TestLocustWeightsAndOnStart(t *testing.T) {
	a := newAPI(t)
	const vus, per = 4, 550 // 2,200 task runs
	res, reg := run(t, fastLocustfile(t, "constant(0)"), Config{Env: map[string]string{"HOST": a.srv.URL}},
		engine.PerVUIterations{VUs: vus, Iterations: per, MaxDuration: 20 * time.Second})
	if res.Exceptions != 0 {
		e, _ := reg.Errors.Entries()
		t.Fatalf("exceptions %+v", e)
	}
	lists, posts := a.lists.Load(), a.posts.Load()
	if lists+posts != vus*per {
		t.Fatalf("task runs %d, want %d", lists+posts, vus*per)
	}
	ratio := float64(lists) / float64(posts)
	if ratio < 9.5 || ratio > 10.5 {
		t.Errorf("list_items/create_item = %d/%d = %.2f, want 10 ± 5%%", lists, posts, ratio)
	}
	if n := a.logins.Load(); n != vus {
		t.Errorf("onStart ran %d times for %d users, want once per user", n, vus)
	}
	// catchResponse success: the checked GETs are not failures
	if f := reg.Total(reg.Builtin.HTTPReqFailed, metrics.Tag{Key: "method", Value: "GET"}); f.Count != lists || f.Nonzero != 0 {
		t.Errorf("GET failed %d of %d, want 0 of %d", f.Nonzero, f.Count, lists)
	}
}

func TestLocustIncludeExcludeTags(t *testing.T) {
	for _, c := range []struct {
		name             string
		include, exclude []string
		wantGET, wantPOS bool
	}{
		{"include read", []string{"read"}, nil, true, false},
		{"exclude read", nil, []string{"read"}, false, true},
		{"include write", []string{"write"}, nil, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t)
			run(t, fastLocustfile(t, "constant(0)"), Config{Env: map[string]string{"HOST": a.srv.URL}, IncludeTags: c.include, ExcludeTags: c.exclude},
				engine.PerVUIterations{VUs: 2, Iterations: 50, MaxDuration: 10 * time.Second})
			if (a.lists.Load() > 0) != c.wantGET || (a.posts.Load() > 0) != c.wantPOS {
				t.Errorf("lists %d posts %d, want lists %v posts %v", a.lists.Load(), a.posts.Load(), c.wantGET, c.wantPOS)
			}
			if a.lists.Load()+a.posts.Load() != 100 {
				t.Errorf("%d task runs, want 100", a.lists.Load()+a.posts.Load())
			}
		})
	}
}

func TestLocustCatchResponseFailure(t *testing.T) {
	a := newAPI(t)
	a.items = "[]"
	_, reg := run(t, fastLocustfile(t, "constant(0)"), Config{Env: map[string]string{"HOST": a.srv.URL}, IncludeTags: []string{"read"}},
		engine.PerVUIterations{VUs: 1, Iterations: 10, MaxDuration: 10 * time.Second})
	f := reg.Total(reg.Builtin.HTTPReqFailed, metrics.Tag{Key: "method", Value: "GET"})
	if f.Count != 10 || f.Nonzero != 10 {
		t.Errorf("GET failed %d of %d, want 10 of 10 (resp.failure)", f.Nonzero, f.Count)
	}
	entries, _ := reg.Errors.Entries()
	if len(entries) != 1 || entries[0].Message != "Unexpected: 200" || entries[0].Count != 10 || entries[0].Kind != "failure" {
		t.Errorf("errors %+v, want 10× failure Unexpected: 200", entries)
	}
}

func TestLocustWaitTimes(t *testing.T) {
	cases := []struct {
		w      waitSpec
		took   time.Duration
		lo, hi time.Duration
	}{
		{waitSpec{kind: "between", min: 1, max: 3}, 0, time.Second, 3 * time.Second},
		{waitSpec{kind: "constant", min: 0.5}, time.Hour, 500 * time.Millisecond, 500 * time.Millisecond},
		{waitSpec{kind: "constantPacing", min: 2}, 500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{waitSpec{kind: "constantPacing", min: 2}, 3 * time.Second, 0, 0},
		{waitSpec{kind: "constantThroughput", min: 4}, 100 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond},
	}
	for _, c := range cases {
		for range 50 {
			if d := c.w.waitFor(c.took); d < c.lo || d > c.hi {
				t.Fatalf("%+v after %v: %v, want in [%v, %v]", c.w, c.took, d, c.lo, c.hi)
			}
		}
	}
}

func TestLocustShapeDrivesVUs(t *testing.T) {
	a := newAPI(t)
	src := fastLocustfile(t, "constant(0.05)") + `
const steps = [
  { duration: 2, users: 2, spawnRate: 10 },
  { duration: 4, users: 5, spawnRate: 10 },
  { duration: 7, users: 1, spawnRate: 10 },
];
export function shape(t) {
  for (const s of steps) if (t < s.duration) return { users: s.users, spawnRate: s.spawnRate };
  return null;
}`
	res, reg := run(t, src, Config{Env: map[string]string{"HOST": a.srv.URL}}, nil)
	if res.Exceptions != 0 {
		t.Fatalf("exceptions %d", res.Exceptions)
	}
	var vus []float64
	for _, se := range reg.Series() {
		if se.Metric == reg.Builtin.VUs {
			for _, p := range se.Points {
				vus = append(vus, p.Last)
			}
		}
	}
	// the per-second vus series walks through the stages in order
	want := []float64{2, 5, 1}
	i := 0
	for _, v := range vus {
		if i < len(want) && v == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("vus series %v does not go through %v", vus, want)
	}
	if n := a.logins.Load(); n < 5 {
		t.Errorf("%d logins, want at least one per user (5)", n)
	}
}

func TestLocustUserMixAndClasses(t *testing.T) {
	a := newAPI(t)
	src := `import { constant } from "surge/locust";
const host = __ENV.HOST;
export const users = [
  { name: "Reader", weight: 3, host, wait: constant(0), tasks: [function read(u) { u.client.get("/api/items?anon=1"); }] },
  { name: "Writer", weight: 1, host, wait: constant(0), tasks: [function write(u) { u.client.post("/api/items", { json: {} }); }] },
  { name: "Admin", fixedCount: 1, host, wait: constant(0), sequential: true,
    tasks: [{ name: "a", fn(u) { u.client.get("/echo"); } }, { name: "b", fn(u) { u.client.get("/echo"); } }] },
];`
	s, err := load(t, "mix.js", src, Config{Env: map[string]string{"HOST": a.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range 9 {
		got = append(got, s.users[s.kindFor(i)].name)
	}
	want := "Admin Reader Reader Writer Reader Reader Reader Writer Reader"
	if strings.Join(got, " ") != want {
		t.Errorf("kinds %v, want %s", got, want)
	}
	allowed := []int{1}
	s.allowed.Store(&allowed)
	if k := s.users[s.kindFor(0)].name; k != "Writer" {
		t.Errorf("with userClasses [Writer]: %s", k)
	}
}
