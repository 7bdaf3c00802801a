package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// seedServer serves /api/items on 127.0.0.1:8000, where load_test.js
// sends its requests by default, in the mode set; POST /auth/login (the
// script's setup()) always answers with a token, which /api/items requires.
type seedServer struct{ mode atomic.Value }

func startSeedServer(t *testing.T) *seedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:8000")
	if err != nil {
		t.Skipf("load_test.js targets http://localhost:8000 by default, which is taken here: %v", err)
	}
	s := &seedServer{}
	s.mode.Store("ok")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/auth/login" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"tok"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		switch s.mode.Load() {
		case "ok":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[{"id":1,"name":"a","value":42}]`))
		case "empty":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[]`))
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			w.Write([]byte("Internal Server Error"))
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// TestScriptSeedLoadTest runs examples/k6/load_test.js as it is (no
// BASE_URL: its default http://localhost:8000); flags shorten its 1m40s of
// stages.
func TestScriptSeedLoadTest(t *testing.T) {
	srv := startSeedServer(t)
	script := filepath.Join("..", "..", "examples", "k6", "load_test.js")
	short := []string{"run", "--vus", "4", "--duration", "1s", "--graceful-stop", "2s", "-q"}
	cases := []struct {
		mode  string
		flags []string
		code  int
		want  []string
	}{
		{"ok", nil, 0, []string{"✓ errors: 'rate<0.01'", "✓ status is 200", "✓ body has items"}},
		{"empty", nil, ExitThresholdsFailed, []string{"✗ errors: 'rate<0.01' rate=1", "✗ body has items"}},
		{"500", nil, ExitIterationErrors, []string{"iterations ended in an exception", "load_test.js:32: SyntaxError"}},
		{"500", []string{"--no-exception-exit"}, 0, []string{"iterations ended in an exception"}},
	}
	for _, c := range cases {
		t.Run(c.mode+strings.Join(c.flags, ""), func(t *testing.T) {
			srv.mode.Store(c.mode)
			args := append(append(append([]string{}, short...), c.flags...), script)
			code, out, stderr := runCLI(t, context.Background(), args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, c.code, out, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("summary lacks %q:\n%s", w, out)
				}
			}
			if c.mode == "500" {
				// each distinct exception once, with its count
				re := regexp.MustCompile(`(\d+)× exception at \S*load_test.js:32: SyntaxError`)
				if m := re.FindAllString(out, -1); len(m) != 1 {
					t.Errorf("want the exception listed once with its count, got %q\n%s", m, out)
				}
				if n := strings.Count(out+stderr, "SyntaxError"); n != 1 {
					t.Errorf("SyntaxError printed %d times, want once", n)
				}
				if !regexp.MustCompile(`! (\d+) of (\d+) iterations ended in an exception`).MatchString(out) {
					t.Errorf("no 'N of M iterations' note:\n%s", out)
				}
			}
		})
	}
}

func writeTestScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScriptErrors(t *testing.T) {
	old := scriptInitTimeout
	scriptInitTimeout = 300 * time.Millisecond
	t.Cleanup(func() { scriptInitTimeout = old })
	cases := []struct {
		name, file, src string
		args            []string
		code            int
		want            string
	}{
		{"syntax error", "syn.js", "export default function () {\n  if (x {\n}\n", nil, ExitScript, "syn.js:2:9:"},
		{"unknown import", "imp.js", "import x from 'k6/nope';\nexport default function () {}\n", nil, ExitScript,
			`unknown module "k6/nope"; the modules are k6, k6/crypto, k6/data, k6/encoding, k6/execution, k6/http, k6/metrics, k6/net/grpc, k6/websockets, k6/ws, surge/locust, surge/sql`},
		{"init timeout", "loop.js", "for (;;) {}\nexport default function () {}\n", nil, ExitScript, "init code did not finish within 300ms"},
		{"setup throws", "setup.js", "export function setup() {\n  throw new Error('no token');\n}\nexport default function () {}\n", nil, ExitScript,
			"setup: Error: no token (at"},
		{"init throws in a VU", "vu.js", "if (__VU === 2) throw new Error('vu two');\nexport default function () {}\n", []string{"--vus", "2", "-i", "2"}, ExitScript,
			"initializing VU 2"},
		{"no default", "nodef.js", "export function x() {}\n", nil, ExitScript, "nothing to run"},
		{"bad executor", "exec.js", "export const options = { scenarios: { a: { executor: 'constant-vu' } } };\nexport default function () {}\n", nil, ExitScript,
			`unknown executor "constant-vu"`},
		{"negative timeUnit", "tu.js", "export const options = { scenarios: { a: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '-1s', duration: '1s', preAllocatedVUs: 1 } } };\nexport default function () {}\n", nil, ExitScript,
			`timeUnit -1s: want a positive duration`},
		{"bad exec", "exec2.js", "export const options = { scenarios: { a: { executor: 'constant-vus', duration: '1s', exec: 'nope' } } };\nexport default function () {}\n", nil, ExitScript,
			`exec "nope" is not an exported function`},
		{"bad threshold", "th.js", "export const options = { thresholds: { http_req_duration: ['p(95<1'] } };\nexport default function () {}\n", nil, ExitScript,
			"options.thresholds:"},
		{"missing file", "", "", nil, ExitUsage, "missing.js: no such script"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "missing.js")
			if c.file != "" {
				p = writeTestScript(t, c.file, c.src)
			}
			args := append(append([]string{"run", "-q"}, c.args...), p)
			code, out, stderr := runCLI(t, context.Background(), args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q, want %q", stderr, c.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
}

// exampleAPI is the seed's API: login, list, create.
type exampleAPI struct {
	logins, lists, posts atomic.Int64
}

func startExampleAPI(t *testing.T) (*exampleAPI, string) {
	a := &exampleAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/auth/login" && r.Method == "POST":
			a.logins.Add(1)
			w.Write([]byte(`{"access_token":"tok"}`))
		case r.URL.Path == "/api/items" && r.Method == "GET":
			a.lists.Add(1)
			w.Write([]byte(`[{"id":1,"name":"a","value":42}]`))
		case r.URL.Path == "/api/items" && r.Method == "POST":
			a.posts.Add(1)
			w.WriteHeader(201)
			w.Write([]byte(`{"id":2}`))
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	return a, srv.URL
}

func TestScriptExamples(t *testing.T) {
	cases := []struct {
		file string
		args []string
		want []string
		ok   func(a *exampleAPI) bool
	}{
		{"k6/scenarios.js", nil, []string{"✓ checks: 'rate>0.99'", "items_created", "list_size"},
			func(a *exampleAPI) bool { return a.logins.Load() == 1 && a.lists.Load() > 0 && a.posts.Load() > 10 }},
		{"k6/typed.ts", nil, []string{"✓ items have ids"},
			func(a *exampleAPI) bool { return a.logins.Load() == 1 && a.lists.Load() == 10 }},
		{"locust/locustfile.js", []string{"--vus", "3", "--duration", "1s", "--graceful-stop", "4s"}, []string{"GET", "/api/items"},
			func(a *exampleAPI) bool { return a.logins.Load() == 3 && a.lists.Load()+a.posts.Load() >= 3 }},
		{"locust/locustfile.js", []string{"--vus", "2", "--duration", "1s", "--graceful-stop", "4s", "--include-tag", "write"}, nil,
			func(a *exampleAPI) bool { return a.logins.Load() == 2 && a.lists.Load() == 0 && a.posts.Load() >= 2 }},
	}
	for _, c := range cases {
		t.Run(c.file+strings.Join(c.args, " "), func(t *testing.T) {
			a, url := startExampleAPI(t)
			t.Setenv("BASE_URL", url)
			t.Setenv("HOST", url)
			args := append(append([]string{"run", "-q"}, c.args...), filepath.Join("..", "..", "examples", c.file))
			code, out, stderr := runCLI(t, context.Background(), args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("summary lacks %q:\n%s", w, out)
				}
			}
			if !c.ok(a) {
				t.Errorf("server saw %d logins, %d lists, %d posts", a.logins.Load(), a.lists.Load(), a.posts.Load())
			}
		})
	}
}

// TestScriptTeardownAndHandleSummary: teardown runs once after the load,
// and handleSummary receives k6's summary data and replaces the text
// summary with what it returns.
func TestScriptTeardownAndHandleSummary(t *testing.T) {
	var teardowns atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/teardown" {
			teardowns.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "data.json")
	path := writeTestScript(t, "hs.js", `import http from "k6/http";
export const options = { iterations: 5, vus: 1, thresholds: { http_reqs: ["count==6"] } };
export default function () { http.get(__ENV.BASE + "/"); }
export function teardown() { http.get(__ENV.BASE + "/teardown"); }
export function handleSummary(data) {
  return { stdout: "custom: " + data.metrics.http_reqs.values.count + " " + data.metrics.http_reqs.thresholds["count==6"].ok + "\n", [__ENV.OUT]: JSON.stringify(data) };
}`)
	t.Setenv("BASE", srv.URL)
	t.Setenv("OUT", out)
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--no-save", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if teardowns.Load() != 1 {
		t.Errorf("teardown ran %d times", teardowns.Load())
	}
	if !strings.HasPrefix(stdout, "custom: 6 true\n") || strings.Contains(stdout, "METRICS") {
		t.Errorf("stdout %q: want only handleSummary's text", stdout)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), `"http_reqs"`) {
		t.Errorf("handleSummary file: %v", err)
	}
}

// TestScriptTestAbortExits108: exec.test.abort() stops the run, the
// summary says why, and surge exits 108 as k6 (ScriptAborted); nothing
// after the abort runs.
func TestScriptTestAbortExits108(t *testing.T) {
	srv, hits := pathCounter(t)
	path := writeTestScript(t, "abort.js", `import http from "k6/http";
import exec from "k6/execution";
export const options = { vus: 1, iterations: 10 };
export default function () {
  http.get(__ENV.BASE + "/work");
  if (exec.scenario.iterationInTest === 2) { exec.test.abort("enough"); }
}`)
	t.Setenv("BASE", srv.URL)
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--no-save", path)
	if code != ExitScriptAborted {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitScriptAborted, stdout, stderr)
	}
	if !strings.Contains(stdout, "enough") {
		t.Errorf("the summary does not say why the run was aborted:\n%s", stdout)
	}
	wantHits(t, hits, map[string]int64{"/work": 3})
}
