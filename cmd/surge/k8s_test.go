package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/surgeload/surge/internal/k8s"
)

var k8sUpdate = flag.Bool("update", false, "rewrite the golden files in testdata")

const k8sScript = "testdata/k8s/script/load.js"

// TestK8sManifestsGolden: the whole output for one fixed input (an
// existing token Secret keeps it deterministic).
func TestK8sManifestsGolden(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), "k8s", "manifests", k8sScript, "--workers", "20",
		"--namespace", "perf", "--token-secret", "surge-token", "--cpu", "1", "--memory", "512Mi", "--env", "BASE_URL=http://api.perf.svc:8080",
		"--", "--vus", "200", "-d", "5m", "--summary-export", "summary.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden := "testdata/k8s/manifests.golden.yaml"
	if *k8sUpdate {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (go test -run TestK8sManifestsGolden ./cmd/surge -update):\n%s", golden, out)
	}
}

// TestK8sManifestsDecode decodes the CLI's output into the k8s.io/api
// types and checks what the run depends on.
func TestK8sManifestsDecode(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), "k8s", "manifests", k8sScript, "--workers", "7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m, err := k8s.Decode([]byte(out))
	if err != nil {
		t.Fatalf("decoding: %v\n%s", err, out)
	}
	ws := m.Workers.Spec
	if *ws.CompletionMode != "Indexed" || *ws.Completions != 7 || *ws.Parallelism != 7 {
		t.Errorf("workers: mode %s completions %d parallelism %d, want Indexed 7 7", *ws.CompletionMode, *ws.Completions, *ws.Parallelism)
	}
	if m.Master.Name != "load-master" || m.Master.Namespace != "default" || m.Service.Name != "load-master" {
		t.Errorf("names from the script's file name: job %s/%s, service %s", m.Master.Namespace, m.Master.Name, m.Service.Name)
	}
	wargs := strings.Join(ws.Template.Spec.Containers[0].Args, " ")
	if want := fmt.Sprintf("--master=%s.%s.svc:%d", m.Service.Name, m.Service.Namespace, m.Service.Spec.Ports[0].Port); !strings.Contains(wargs, want) {
		t.Errorf("worker args %q, want %s", wargs, want)
	}
	for _, f := range []string{"load.js", "lib/paths.js"} {
		disk, _ := os.ReadFile(filepath.Join("testdata/k8s/script", f))
		if got := m.ConfigMap.Data[strings.ReplaceAll(f, "/", "_")]; got != string(disk) {
			t.Errorf("ConfigMap %s = %q, want the file's bytes %q", f, got, disk)
		}
	}
	if got := ws.Template.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath; got != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("index fieldPath %q", got)
	}
	// A generated token: a fresh random one each time, in the Secret the
	// pods read.
	_, out2, _ := runCLI(t, context.Background(), "k8s", "manifests", k8sScript, "--workers", "7")
	m2, err := k8s.Decode([]byte(out2))
	if err != nil {
		t.Fatal(err)
	}
	tok, tok2 := m.Secret.Data["token"], m2.Secret.Data["token"]
	if len(tok) < 20 || bytes.Equal(tok, tok2) {
		t.Errorf("tokens %q and %q: want two different random ones", tok, tok2)
	}
	if ref := m.Master.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.SecretKeyRef; ref.Name != m.Secret.Name {
		t.Errorf("the master reads Secret %s, the manifests make %s", ref.Name, m.Secret.Name)
	}
}

func TestK8sManifestsOutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.yaml")
	code, out, errOut := runCLI(t, context.Background(), "k8s", "manifests", k8sScript, "--workers=2", "--name", "smoke", "-o", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "kubectl logs -f job/smoke-master") {
		t.Errorf("stderr %q: want the next steps", errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := k8s.Decode(b); err != nil || m.Workers.Name != "smoke-workers" {
		t.Errorf("file: %v", err)
	}
}

func TestK8sBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"k8s"}, "want a subcommand: surge k8s manifests"},
		{"unknown subcommand", []string{"k8s", "apply", k8sScript}, "want a subcommand"},
		{"no script", []string{"k8s", "manifests", "--workers", "3"}, "no script: surge k8s manifests SCRIPT"},
		{"missing script", []string{"k8s", "manifests", "nope/missing.js", "--workers", "3"}, `script "nope/missing.js": not a readable file`},
		{"directory as script", []string{"k8s", "manifests", "testdata/k8s/script", "--workers", "3"}, "not a readable file"},
		{"two scripts", []string{"k8s", "manifests", k8sScript, k8sScript, "--workers", "3"}, "one script only"},
		{"no --workers", []string{"k8s", "manifests", k8sScript}, "--workers: want at least 1 worker pod, got 0"},
		{"--workers 0", []string{"k8s", "manifests", k8sScript, "--workers", "0"}, "--workers: want at least 1 worker pod, got 0"},
		{"--workers -1", []string{"k8s", "manifests", k8sScript, "--workers=-1"}, "got -1"},
		{"invalid --name", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--name", "Load_Test"}, `name "Load_Test": a DNS-1035 label`},
		{"long --name", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--name", strings.Repeat("a", 41)}, "at most 40 characters"},
		{"invalid --namespace", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--namespace", "Perf"}, `namespace "Perf"`},
		{"invalid --cpu", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--cpu", "lots"}, `cpu "lots": not a quantity`},
		{"invalid --token-secret", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--token-secret", "My Secret"}, `token Secret "My Secret"`},
		{"--env without =", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--env", "BASE_URL"}, `env "BASE_URL": want NAME=VALUE`},
		{"unknown flag", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--replicas", "3"}, "flag provided but not defined: -replicas"},
		{"bad run flag", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--", "--vuz", "3"}, "run flags after --: flag provided but not defined: -vuz"},
		{"bad run flag value", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--", "-d", "soon"}, "run flags after --: invalid value"},
		{"--expect-workers after --", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--", "--expect-workers", "5"}, "--expect-workers is set by the manifests"},
		{"--listen after --", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--", "--listen", ":1"}, "--listen is set by the manifests"},
		{"--token after --", []string{"k8s", "manifests", k8sScript, "--workers", "3", "--", "--token", "t"}, "use --token-secret NAME"},
		{"script after --", []string{"k8s", "manifests", "--workers", "3", "--", k8sScript}, "no script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, context.Background(), tt.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
			}
			if !strings.HasPrefix(errOut, "surge k8s: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q, want one line containing %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q on an error", out)
			}
		})
	}
}

// TestK8sManifestsRun plays the kubelet on loopback: it mounts the
// ConfigMap's files where the master pod's subPath mounts put them,
// resolves each container's environment (the token from the Secret, the
// completion index from the annotation) and expands $(VAR) in the args as
// the kubelet does, then runs the master and two workers as processes of
// the surge binary. Only the addresses change: the cluster DNS name and
// the pod's port become 127.0.0.1:PORT. The run must complete with every
// request counted and each worker named after its index.
func TestK8sManifestsRun(t *testing.T) {
	var hits atomic.Int64 // requests with the path and query from the ConfigMap's files
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RequestURI() == "/k8s?from=configmap" {
			hits.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	k8sWriteFiles(t, dir, map[string]string{
		"test.js": `import http from 'k6/http';
import { path } from './lib/paths.js';
const query = open('./data/query.txt').trim();
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 30, maxDuration: '20s' } } };
export default function () { http.get(__ENV.TARGET + path + query); }
`,
		"lib/paths.js":   "export const path = '/k8s';\n",
		"data/query.txt": "?from=configmap\n",
	})
	_, out, errOut := runCLI(t, context.Background(), "k8s", "manifests", filepath.Join(dir, "test.js"), "--workers", "2", "--env", "TARGET="+srv.URL,
		"--", "--summary-export", "summary.json", "--no-color")
	m, err := k8s.Decode([]byte(out))
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	port := k8sFreePort(t)
	pod := t.TempDir() // the master pod's filesystem: /scripts and /work
	master := k8sKubelet(t, m, m.Master.Spec.Template.Spec.Containers[0], pod, -1, map[string]string{
		"--listen=:6565":           "--listen=127.0.0.1:" + port,
		k8s.ScriptDir + "/test.js": filepath.Join(pod, k8s.ScriptDir, "test.js"),
	})
	master.Dir = filepath.Join(pod, k8s.WorkDir)
	os.MkdirAll(master.Dir, 0o755)
	var mout bytes.Buffer
	master.Stdout, master.Stderr = &mout, &mout
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Process.Kill(); master.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) { // the master is listening
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the master did not listen within 20s")
		}
	}
	var workers []*exec.Cmd
	for _, i := range []int{1, 0} { // the second index joins first: the index, not the order, picks the segment
		if i == 0 {
			time.Sleep(500 * time.Millisecond)
		}
		w := k8sKubelet(t, m, m.Workers.Spec.Template.Spec.Containers[0], t.TempDir(), i, map[string]string{
			"--master=test-master.default.svc:6565": "--master=127.0.0.1:" + port,
		})
		var wout bytes.Buffer
		w.Stdout, w.Stderr = &wout, &wout
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			w.Process.Kill()
			w.Wait()
			if t.Failed() {
				t.Logf("worker %d:\n%s", i, wout.String())
			}
		})
		workers = append(workers, w)
	}
	done := make(chan error, 1)
	go func() { done <- master.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("master: %v\n%s", err, mout.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the master did not finish within 60s:\n%s", mout.String())
	}
	s := readSummary(t, filepath.Join(master.Dir, "summary.json"))
	if n := s.value("http_reqs", "count"); n != 30 || hits.Load() != 30 {
		t.Errorf("requests: merged %v, served %d; want 30", n, hits.Load())
	}
	for i := range 2 {
		seg := fmt.Sprintf("%d/2–%d/2", i, i+1)
		if !regexp.MustCompile(`(?m)^\s+worker-` + strconv.Itoa(i) + `\s+done.*\s` + seg + `\s*$`).MatchString(mout.String()) {
			t.Errorf("no worker-%d running segment %s (its completion index) in the master's summary:\n%s", i, seg, mout.String())
		}
	}
}

func k8sWriteFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func k8sFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// k8sKubelet makes the process a pod's container would be: the ConfigMap
// files at their mount paths under root, the environment from the
// Secret and the downward API (index i), $(VAR) expanded in the args.
// Each arg found in rewrite must be present and is replaced.
func k8sKubelet(t *testing.T, m *k8s.Manifests, c corev1.Container, root string, i int, rewrite map[string]string) *exec.Cmd {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		if vm.Name == "script" {
			k8sWriteFiles(t, root, map[string]string{vm.MountPath: m.ConfigMap.Data[vm.SubPath]})
		}
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = string(m.Secret.Data[e.ValueFrom.SecretKeyRef.Key])
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = strconv.Itoa(i)
		}
	}
	expand := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	var args []string
	seen := 0
	for _, a := range c.Args {
		a = expand.ReplaceAllStringFunc(a, func(s string) string { return env[s[2:len(s)-1]] })
		if r, ok := rewrite[a]; ok {
			a = r
			seen++
		}
		args = append(args, a)
	}
	if seen != len(rewrite) || c.Command[0] != "surge" {
		t.Fatalf("container %s: command %q %q lacks the expected %v", c.Name, c.Command, c.Args, rewrite)
	}
	cmd := exec.Command(surgeBin(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SURGE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "NO_COLOR=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}
