package profile

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestMain holds the directory of programs built once per test binary.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "surge-profile-test")
	if err != nil {
		panic(err)
	}
	builtDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	builtDir string
	builtMu  sync.Mutex
	built    = map[string]string{}
)

// cachedBuild returns the program built for key, building it with fn into
// a fresh directory the first time. Tests must not modify the file.
func cachedBuild(t testing.TB, key string, fn func(dir string) string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	if path, ok := built[key]; ok {
		return path
	}
	dir, err := os.MkdirTemp(builtDir, "bin")
	if err != nil {
		t.Fatal(err)
	}
	path := fn(dir)
	built[key] = path
	return path
}

// buildGo compiles testdata/NAME/main.go (once per test binary).
func buildGo(t testing.TB, name string, ldflags ...string) string {
	t.Helper()
	return cachedBuild(t, "go:"+name+":"+strings.Join(ldflags, " "), func(dir string) string {
		return buildGoInto(t, dir, name, ldflags...)
	})
}

func buildGoInto(t testing.TB, dir, name string, ldflags ...string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", name, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags="+strings.Join(ldflags, " "))
	}
	cmd := exec.Command("go", append(args, src)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	return out
}

// buildC compiles testdata/NAME/prog.c with frame pointers (once per test
// binary).
func buildC(t *testing.T, name string, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gcc is not installed (test.sh installs it)")
		}
		t.Skip("gcc is not installed")
	}
	return cachedBuild(t, "c:"+name+":"+strings.Join(extra, " "), func(dir string) string {
		return buildCInto(t, dir, name, extra...)
	})
}

func buildCInto(t *testing.T, dir, name string, extra ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := append([]string{"-fno-omit-frame-pointer", "-O0", "-o", out, filepath.Join("testdata", name, "prog.c")}, extra...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, b)
	}
	return out
}

// startReady starts bin and waits until it prints "ready".
func startReady(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%s exited before printing ready", bin)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not print ready", bin)
	}
	return cmd
}

// recordPID profiles pid for d at rate Hz.
func recordPID(t *testing.T, pid, rate int, d time.Duration) *profile.Profile {
	t.Helper()
	p, err := Record(context.Background(), Target{PID: pid}, Options{Rate: rate}, d)
	if err != nil {
		t.Fatalf("recording pid %d: %v", pid, err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("invalid profile: %v", err)
	}
	return p
}

// shareOf returns the fraction of samples whose innermost user-space
// function is name. Kernel frames are skipped: on a busy machine a good
// share of samples land while the kernel preempts or faults the thread.
func shareOf(p *profile.Profile, name string) (float64, int64) {
	return shareWhere(p, func(leaf string) bool { return leaf == name })
}

// shareWhere is shareOf for the innermost user functions that match.
func shareWhere(p *profile.Profile, match func(string) bool) (float64, int64) {
	var hit, all int64
	for _, s := range p.Sample {
		all += s.Value[0]
		names := frameNames(s)
		for len(names) > 0 && (names[len(names)-1] == "[kernel]" || strings.HasPrefix(names[len(names)-1], "[k] ")) {
			names = names[:len(names)-1]
		}
		if len(names) > 0 && match(names[len(names)-1]) {
			hit += s.Value[0]
		}
	}
	if all == 0 {
		return 0, 0
	}
	return float64(hit) / float64(all), all
}
