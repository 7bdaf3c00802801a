package js

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// api is a test server shaped like the seed's API.
type testAPI struct {
	srv                  *httptest.Server
	logins, lists, posts atomic.Int64
	items                string // GET /api/items body
}

func newAPI(t *testing.T) *testAPI {
	a := &testAPI{items: `[{"id":1}]`}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/auth/login" && r.Method == "POST":
			a.logins.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"tok"}`))
		case r.URL.Path == "/api/items" && r.Method == "GET":
			a.lists.Add(1)
			if r.Header.Get("Authorization") != "Bearer tok" && r.URL.Query().Get("anon") == "" {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(a.items))
		case r.URL.Path == "/api/items" && r.Method == "POST":
			a.posts.Add(1)
			w.WriteHeader(201)
			w.Write([]byte(`{"id":2}`))
		case r.URL.Path == "/echo":
			b, _ := json.Marshal(map[string]any{"method": r.Method, "ua": r.UserAgent(), "hdr": r.Header.Get("X-Test"), "cookie": r.Header.Get("Cookie")})
			w.Write(b)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, name, src string, cfg Config) (*Script, error) {
	t.Helper()
	if cfg.Stderr == nil {
		cfg.Stderr = &bytes.Buffer{}
	}
	return Load(context.Background(), writeScript(t, name, src), cfg)
}

// run loads src and runs its scenarios (or the executor given).
func run(t *testing.T, src string, cfg Config, exec engine.Executor) (*engine.Result, *metrics.Registry) {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = metrics.NewRegistry()
	}
	s, err := load(t, "test.js", src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	scens, err := s.Scenarios(exec, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := engine.Run(ctx, engine.Options{Registry: cfg.Registry, Scenarios: scens})
	if err != nil {
		t.Fatal(err)
	}
	return res, cfg.Registry
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, file, src, want string
	}{
		{"syntax", "bad.js", "export default function () {\n  let x = ;\n}\n", "bad.js:2:11: Unexpected \";\""},
		{"syntax ts", "bad.ts", "const x: number = ;\n", "bad.ts:1:19:"},
		{"unknown import", "imp.js", "import x from \"k6/nope\";\nexport default function () {}\n",
			`unknown module "k6/nope"; the modules are k6, k6/crypto, k6/data, k6/encoding, k6/execution, k6/http, k6/metrics, k6/net/grpc, k6/websockets, k6/ws, surge/locust, surge/sql`},
		{"init throws", "thr.js", "\nthrow new Error(\"boom\");\nexport default function () {}\n", "init: Error: boom (at"},
		{"init loops", "loop.js", "while (true) {}\nexport default function () {}\n", "init code did not finish within 200ms"},
		{"bad users", "users.js", "export const users = [{ name: 'U' }];\n", `user "U": tasks must be an array`},
		{"bad threshold option", "opt.js", "export const options = { vus: 'many' };\nexport default function () {}\n", "options:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.file, c.src, Config{InitTimeout: 200 * time.Millisecond})
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a ScriptError", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
		})
	}
}

func TestInitThrowLocation(t *testing.T) {
	_, err := load(t, "thr.js", "import http from 'k6/http';\n\nthrow new Error('boom');\n", Config{})
	if err == nil || !strings.Contains(err.Error(), "thr.js:3") {
		t.Fatalf("error %v, want the line thr.js:3", err)
	}
}

func TestOptionsToScenarios(t *testing.T) {
	src := `export const options = {
  tags: { team: "a" },
  scenarios: {
    cv: { executor: "constant-vus", vus: 2, duration: "1m", exec: "other", env: { X: "1" }, tags: { s: "cv" } },
    rv: { executor: "ramping-vus", startVUs: 0, stages: [{ duration: "10s", target: 5 }], gracefulRampDown: "0s" },
    pvi: { executor: "per-vu-iterations", vus: 3, iterations: 4, maxDuration: "20s" },
    si: { executor: "shared-iterations", vus: 2, iterations: 10, startTime: "5s", gracefulStop: "2s" },
    car: { executor: "constant-arrival-rate", rate: 50, timeUnit: "1s", duration: 30000, preAllocatedVUs: 5, maxVUs: 20 },
    rar: { executor: "ramping-arrival-rate", startRate: 1, stages: [{ duration: "1m", target: 100 }], preAllocatedVUs: 2 },
  },
  thresholds: { http_req_duration: ["p(95)<500", { threshold: "p(99)<900", abortOnFail: true, delayAbortEval: "10s" }], "http_req_failed{name:x}": "rate<0.1" },
};
export default function () {}
export function other() {}`
	s, err := load(t, "opts.js", src, Config{})
	if err != nil {
		t.Fatal(err)
	}
	scens, err := s.Scenarios(nil, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*engine.Scenario{}
	for _, sc := range scens {
		got[sc.Name] = sc
	}
	want := map[string]engine.Executor{
		"cv":  engine.ConstantVUs{VUs: 2, Duration: time.Minute},
		"rv":  engine.RampingVUs{StartVUs: 0, Stages: []engine.Stage{{Duration: 10 * time.Second, Target: 5}}},
		"pvi": engine.PerVUIterations{VUs: 3, Iterations: 4, MaxDuration: 20 * time.Second},
		"si":  engine.SharedIterations{VUs: 2, Iterations: 10},
		"car": engine.ConstantArrivalRate{Rate: 50, TimeUnit: time.Second, Duration: 30 * time.Second, PreAllocatedVUs: 5, MaxVUs: 20},
		"rar": engine.RampingArrivalRate{StartRate: 1, Stages: []engine.Stage{{Duration: time.Minute, Target: 100}}, PreAllocatedVUs: 2},
	}
	for name, w := range want {
		sc := got[name]
		if sc == nil {
			t.Fatalf("scenario %s missing", name)
		}
		if g, _ := json.Marshal(sc.Executor); string(g) != mustJSON(w) {
			t.Errorf("%s: executor %s, want %s", name, g, mustJSON(w))
		}
	}
	if g := got["si"]; g.StartTime != 5*time.Second || g.GracefulStop != 2*time.Second {
		t.Errorf("si: startTime %v gracefulStop %v", g.StartTime, g.GracefulStop)
	}
	if g := got["cv"].Tags; g["team"] != "a" || g["s"] != "cv" {
		t.Errorf("cv tags %v", g)
	}
	ths, err := s.Options.ThresholdList()
	if err != nil {
		t.Fatal(err)
	}
	if len(ths) != 3 || !ths[1].AbortOnFail || ths[1].DelayAbortEval != 10*time.Second || ths[0].MetricName() != "http_req_duration" {
		t.Errorf("thresholds %+v %+v %+v", ths[0], ths[1], ths[2])
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestShortcutOptions(t *testing.T) {
	cases := []struct {
		opts string
		want engine.Executor
	}{
		{`{}`, engine.SharedIterations{VUs: 1, Iterations: 1}},
		{`{vus: 5, duration: "10s"}`, engine.ConstantVUs{VUs: 5, Duration: 10 * time.Second}},
		{`{vus: 2, iterations: 7}`, engine.SharedIterations{VUs: 2, Iterations: 7}},
		{`{stages: [{duration: "30s", target: 20}, {duration: "1m", target: 0}]}`,
			engine.RampingVUs{StartVUs: 1, Stages: []engine.Stage{{Duration: 30 * time.Second, Target: 20}, {Duration: time.Minute, Target: 0}}}},
	}
	for _, c := range cases {
		s, err := load(t, "s.js", "export const options = "+c.opts+";\nexport default function () {}\n", Config{})
		if err != nil {
			t.Fatal(err)
		}
		if g := mustJSON(s.Options.ShortcutExecutor()); g != mustJSON(c.want) {
			t.Errorf("%s: %s, want %s", c.opts, g, mustJSON(c.want))
		}
	}
}

func TestK6APIs(t *testing.T) {
	a := newAPI(t)
	stderr := &bytes.Buffer{}
	src := `import http from "k6/http";
import { check, group, fail } from "k6";
import { Counter, Trend } from "k6/metrics";
import exec from "k6/execution";
import { b64encode, b64decode } from "k6/encoding";
import crypto from "k6/crypto";
import { SharedArray } from "k6/data";
const base = __ENV.BASE;
const hits = new Counter("hits");
const sizes = new Trend("sizes");
const data = new SharedArray("d", () => [{ n: 1 }, { n: 2 }]);
export const options = { userAgent: "surge-test/1", iterations: 3, vus: 1 };
export function setup() { return { token: "tok", base: base }; }
export default function (d) {
  group("list", () => {
    const r = http.get(d.base + "/api/items", { headers: { Authorization: "Bearer " + d.token }, tags: { name: "items" } });
    check(r, { "200": (r) => r.status === 200, "json": (r) => r.json()[0].id === 1, "timings": (r) => r.timings.duration >= 0 });
    sizes.add(r.body.length);
  });
  const e = http.post(d.base + "/echo", "x", { headers: { "X-Test": "yes" }, cookies: { a: "b" } });
  if (e.json().ua !== "surge-test/1" || e.json("hdr") !== "yes" || e.json().cookie !== "a=b") fail("echo: " + e.body);
  if (http.post(d.base + "/echo", { a: "1" }).json().method !== "POST") fail("form post");
  const [r1, r2] = http.batch([["GET", d.base + "/echo"], { method: "PUT", url: d.base + "/echo" }]);
  if (r1.json().method !== "GET" || r2.json().method !== "PUT") fail("batch");
  if (b64decode(b64encode("hé"), "std", "s") !== "hé") fail("b64");
  if (crypto.sha256("abc", "hex") !== "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") fail("sha256");
  if (crypto.hmac("sha256", "key", "msg", "hex").length !== 64 || crypto.md5("", "hex") !== "d41d8cd98f00b204e9800998ecf8427e") fail("hmac");
  if (data.length !== 2 || data[1].n !== 2) fail("shared array");
  if (exec.vu.idInTest !== __VU || exec.scenario.name !== "default" || exec.vu.iterationInScenario !== __ITER) fail("execution");
  const nf = http.get(d.base + "/missing", { responseCallback: http.expectedStatuses(404) });
  if (nf.status !== 404 || nf.error_code !== 1404) fail("404: " + nf.status + " " + nf.error_code);
  const jar = http.cookieJar();
  jar.set(d.base, "session", "s1");
  if (jar.cookiesForURL(d.base).session[0] !== "s1") fail("jar: " + JSON.stringify(jar.cookiesForURL(d.base)));
  if (http.get(d.base + "/echo").json().cookie !== "session=s1") fail("jar cookie not sent");
  hits.add(1, { kind: "x" });
  console.log("iteration", __ITER, { ok: true });
}`
	res, reg := run(t, src, Config{Env: map[string]string{"BASE": a.srv.URL}, Stderr: stderr}, nil)
	if res.Exceptions != 0 {
		entries, _ := reg.Errors.Entries()
		t.Fatalf("exceptions: %+v", entries)
	}
	if res.Iterations != 3 {
		t.Errorf("iterations %d, want 3", res.Iterations)
	}
	if n := reg.Total(reg.Get("hits")).Sum; n != 3 {
		t.Errorf("hits %v, want 3", n)
	}
	checks := reg.Total(reg.Builtin.Checks, metrics.Tag{Key: "group", Value: "::list"})
	if checks.Count != 9 || checks.Nonzero != 9 {
		t.Errorf("checks in group ::list: %d of %d passed, want 9 of 9", checks.Nonzero, checks.Count)
	}
	if f := reg.Total(reg.Builtin.HTTPReqFailed, metrics.Tag{Key: "name", Value: "items"}); f.Count != 3 || f.Nonzero != 0 {
		t.Errorf("http_req_failed{name:items} %d of %d", f.Nonzero, f.Count)
	}
	if f := reg.Total(reg.Builtin.HTTPReqFailed, metrics.Tag{Key: "status", Value: "404"}); f.Count != 3 || f.Nonzero != 0 {
		t.Errorf("404 with expectedStatuses(404): %d of %d failed, want 0", f.Nonzero, f.Count)
	}
	if !strings.Contains(stderr.String(), `INFO iteration 2 {"ok":true}`) {
		t.Errorf("console output %q", stderr.String())
	}
}

func TestExceptionLocationAndAbort(t *testing.T) {
	a := newAPI(t)
	a.items = "not json"
	src := `import http from "k6/http";
import exec from "k6/execution";
export const options = { iterations: 20, vus: 2 };
export default function () {
  if (__ITER === 5 && __VU === 1) exec.test.abort("enough");
  const r = http.get(__ENV.BASE + "/api/items?anon=1");
  JSON.parse(r.body);
}`
	res, reg := run(t, src, Config{Env: map[string]string{"BASE": a.srv.URL}}, engine.PerVUIterations{VUs: 2, Iterations: 10})
	if res.Aborted != "enough" {
		t.Errorf("aborted %q, want enough", res.Aborted)
	}
	entries, _ := reg.Errors.Entries()
	var found bool
	for _, e := range entries {
		if e.Kind == "exception" {
			found = true
			if !strings.HasSuffix(e.Where, "test.js:7") || !strings.Contains(e.Message, "SyntaxError") {
				t.Errorf("exception %+v, want a SyntaxError at test.js:7", e)
			}
		}
	}
	if !found || res.Exceptions == 0 {
		t.Errorf("no exception recorded: %+v", entries)
	}
}

func TestTypeScript(t *testing.T) {
	src := `import { Counter } from "k6/metrics";
interface Item { id: number }
const c = new Counter("ts_runs");
export const options = { iterations: 2 };
export default function (): void {
  const it: Item = { id: 1 };
  c.add(it.id);
}`
	reg := metrics.NewRegistry()
	s, err := load(t, "t.ts", src, Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	scens, _ := s.Scenarios(nil, time.Second)
	if _, err := engine.Run(context.Background(), engine.Options{Registry: reg, Scenarios: scens}); err != nil {
		t.Fatal(err)
	}
	if n := reg.Total(reg.Get("ts_runs")).Sum; n != 2 {
		t.Errorf("ts_runs %v, want 2", n)
	}
}

func TestSetupTeardownHandleSummary(t *testing.T) {
	a := newAPI(t)
	out := filepath.Join(t.TempDir(), "summary.json")
	src := `import http from "k6/http";
import { Counter } from "k6/metrics";
const seen = new Counter("seen_token");
export const options = { iterations: 4, vus: 2 };
export function setup() {
  const r = http.post(__ENV.BASE + "/auth/login");
  return { token: r.json().access_token };
}
export default function (data) { if (data.token === "tok") seen.add(1); }
export function teardown(data) { http.post(__ENV.BASE + "/auth/login", JSON.stringify(data)); }
export function handleSummary(data) {
  return { stdout: "iterations=" + data.metrics.iterations.values.count + "\n", [__ENV.OUT]: JSON.stringify(data) };
}`
	reg := metrics.NewRegistry()
	res, _ := run(t, src, Config{Registry: reg, Env: map[string]string{"BASE": a.srv.URL, "OUT": out}}, nil)
	if res.Iterations != 4 || reg.Total(reg.Get("seen_token")).Sum != 4 {
		t.Fatalf("iterations %d, seen_token %v: setup data did not reach every iteration", res.Iterations, reg.Total(reg.Get("seen_token")).Sum)
	}
	if a.logins.Load() != 1 {
		t.Errorf("setup ran %d times", a.logins.Load())
	}
	// the scripts's own run: teardown and handleSummary after the load
	s, err := load(t, "test.js", src, Config{Env: map[string]string{"BASE": a.srv.URL, "OUT": out}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.logins.Load() != 2 {
		t.Errorf("teardown did not run: %d logins", a.logins.Load())
	}
	var stdout bytes.Buffer
	ok, err := s.HandleSummary(context.Background(), []byte(`{"metrics":{"iterations":{"type":"counter","values":{"count":4}}}}`), &stdout, &stdout)
	if !ok || err != nil || stdout.String() != "iterations=4\n" {
		t.Errorf("handleSummary: %v %v %q", ok, err, stdout.String())
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), `"count":4`) {
		t.Errorf("summary file: %s %v", b, err)
	}
}

func TestLocalImports(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "lib", "util.js"), []byte("export function twice(n) {\n  if (n > 1) throw new Error(\"too many\");\n  return 2 * n;\n}\n"), 0o644)
	main := filepath.Join(dir, "main.js")
	os.WriteFile(main, []byte("import { twice } from \"./lib/util.js\";\nimport { Counter } from \"k6/metrics\";\nconst c = new Counter(\"twice\");\nexport const options = { iterations: 3 };\nexport default function () { c.add(twice(__ITER)); }\n"), 0o644)
	reg := metrics.NewRegistry()
	s, err := Load(context.Background(), main, Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	scens, _ := s.Scenarios(nil, time.Second)
	res, err := engine.Run(context.Background(), engine.Options{Registry: reg, Scenarios: scens})
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Total(reg.Get("twice")).Sum; n != 2 || res.Exceptions != 1 {
		t.Errorf("twice %v exceptions %d, want 2 and 1", n, res.Exceptions)
	}
	entries, _ := reg.Errors.Entries()
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Where, filepath.Join("lib", "util.js")+":2") {
		t.Errorf("exception %+v, want it at lib/util.js:2", entries)
	}
	// a missing local module names the import
	os.WriteFile(main, []byte("import x from \"./nope.js\";\nexport default function () {}\n"), 0o644)
	if _, err := Load(context.Background(), main, Config{}); err == nil || !strings.Contains(err.Error(), "main.js:1:15:") || !strings.Contains(err.Error(), "./nope.js") {
		t.Errorf("missing local module: %v", err)
	}
}

func TestSetupTimeout(t *testing.T) {
	s, err := load(t, "st.js", "export const options = { setupTimeout: '100ms' };\nexport function setup() { for (;;) {} }\nexport default function () {}\n", Config{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Setup(context.Background())
	if err == nil || !strings.Contains(err.Error(), "setup did not finish within 100ms") {
		t.Errorf("setup error %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("setup cut off after %v", el)
	}
}

// TestRemoteSetup: a worker of a distributed run builds the script with
// a RemoteSetup. Neither setup() nor teardown() runs there; the data set
// after loading (when the master's start message arrives) reaches every
// iteration.
func TestRemoteSetup(t *testing.T) {
	a := newAPI(t)
	src := `import http from "k6/http";
import { Counter } from "k6/metrics";
const seen = new Counter("seen_token");
export const options = { iterations: 4, vus: 2 };
export function setup() { http.post(__ENV.BASE + "/auth/login"); return { token: "local" }; }
export default function (data) { if (data.token === "remote" && data.n === 42) seen.add(1); }
export function teardown(data) { http.post(__ENV.BASE + "/auth/login"); }
`
	reg := metrics.NewRegistry()
	s, err := load(t, "remote.js", src, Config{Registry: reg, Env: map[string]string{"BASE": a.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	remote := &RemoteSetup{}
	if err := s.Setup(WithRemoteSetup(context.Background(), remote)); err != nil {
		t.Fatal(err)
	}
	remote.Set(`{"token":"remote","n":42}`)
	scens, err := s.Scenarios(nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), engine.Options{Registry: reg, Scenarios: scens})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := reg.Total(reg.Get("seen_token")).Sum; res.Iterations != 4 || n != 4 {
		t.Errorf("iterations %d, seen_token %v: the remote data did not reach every iteration", res.Iterations, n)
	}
	if n := a.logins.Load(); n != 0 {
		t.Errorf("setup or teardown ran on the worker: %d logins", n)
	}
	if d := s.SetupData(); d != "" {
		t.Errorf("SetupData = %q on a worker, want none", d)
	}
}

// TestSetupDataNotJSON: setup() data that JSON cannot carry is a script
// error naming the problem.
func TestSetupDataNotJSON(t *testing.T) {
	s, err := load(t, "nj.js", "export function setup() { const o = {}; o.self = o; return o; }\nexport default function () {}\n", Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Setup(context.Background())
	var se *ScriptError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "setup() returned a value that is not JSON") {
		t.Errorf("setup error %v, want a ScriptError saying the value is not JSON", err)
	}
}
