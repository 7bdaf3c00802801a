package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/bench"
)

// benchTestdata is the Go benchmark output shared with internal/bench's
// tests; benchstat's own output for it is checked in beside it.
const benchTestdata = "../../internal/bench/testdata"

func runSurge(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), &out, &errb, args)
	return code, out.String(), errb.String()
}

var ratioRE = regexp.MustCompile(`(\d+\.\d+) ± (\d+\.\d+) times faster than 'sleep 0.04'  \(p=(\d\.\d+) n=10\)`)

// TestBenchKnownRatio: sleep 0.02 s against 0.04 s gives a ratio within
// 2.0 ± 0.2 that the U test calls significant. Load from other processes
// adds wake-up delay to both commands alike and pulls the ratio towards 1,
// so a busy machine gets five attempts; a wrong ratio fails all five.
func TestBenchKnownRatio(t *testing.T) {
	var out string
	for attempt := range 5 {
		code, o, errs := runSurge(t, "bench", "-r", "10", "-w", "1", "--", "sleep 0.02", "sleep 0.04")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		out = o
		for _, want := range []string{"Benchmark 1: sleep 0.02", "Time (mean ± σ):", "[User:", "Range (min … max):", "10 runs", "Median:", "Peak memory:"} {
			if !strings.Contains(out, want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		}
		m := ratioRE.FindStringSubmatch(out)
		if m == nil {
			t.Logf("attempt %d: no significant ratio line", attempt+1)
			continue
		}
		ratio, _ := strconv.ParseFloat(m[1], 64)
		p, _ := strconv.ParseFloat(m[3], 64)
		if ratio >= 1.8 && ratio <= 2.2 && p <= 0.05 {
			return
		}
		t.Logf("attempt %d: ratio %v p=%v", attempt+1, ratio, p)
	}
	t.Errorf("no attempt gave a significant ratio within 2.0 ± 0.2; last:\n%s", out)
}

// TestBenchSameCommand: one command twice is "~". At alpha 0.05 the U test
// calls identical samples different 5% of the time, so three attempts are
// allowed (1 in 8000 to fail by chance).
func TestBenchSameCommand(t *testing.T) {
	var out string
	for range 3 {
		var code int
		code, out, _ = runSurge(t, "bench", "-N", "-r", "10", "-n", "a", "-n", "b", "--", "sleep 0.005", "sleep 0.005")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		if strings.Contains(out, "~ no significant difference from ") {
			return
		}
	}
	t.Errorf("same command reported different three times; last:\n%s", out)
}

func TestBenchFailingCommand(t *testing.T) {
	code, _, errs := runSurge(t, "bench", "-r", "2", "--", "exit 7")
	if code != ExitError || !strings.Contains(errs, `"exit 7" exited with code 7; use -i/--ignore-failure`) {
		t.Errorf("exit %d, stderr %q; want 1 and the exit code", code, errs)
	}
	code, out, errs := runSurge(t, "bench", "-r", "2", "-i", "--", "exit 7")
	if code != 0 || !strings.Contains(out, "ignoring non-zero exit codes in 2 of 2 runs (first: 7)") {
		t.Errorf("with -i: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "no command to benchmark"},
		{[]string{"bench", "-P", "n", "1"}, "-P needs 3 values (NAME LO HI)"},
		{[]string{"bench", "-P", "n", "5", "1", "--", "echo {n}"}, "upper bound 1 is below lower bound 5"},
		{[]string{"bench", "-L", "n", "--", "x"}, "-L needs 2 values"},
		{[]string{"bench", "--fail-on", "sec/op:+5%", "--", "true"}, "--fail-on needs a baseline"},
		{[]string{"bench", "--compare", "x", "--fail-on", "sec/op:5", "--", "true"}, "want UNIT:+N% or UNIT:-N%"},
		{[]string{"bench", "--save", "../evil", "--", "true"}, `baseline name "../evil"`},
		{[]string{"bench", "--alpha", "2", "--", "true"}, "--alpha 2"},
		{[]string{"bench", "-m", "5", "-M", "2", "--", "true"}, "--max-runs 2 is below --min-runs 5"},
		{[]string{"bench", "-n", "a", "-n", "b", "--", "true"}, "2 command names for 1 commands"},
		{[]string{"bench", "--nope", "--", "true"}, "flag provided but not defined: -nope"},
		{[]string{"bench", "compare", "a"}, "want two baselines or files"},
		{[]string{"bench", "go", "--count", "0"}, "--count 0"},
	}
	for _, tt := range tests {
		code, _, errs := runSurge(t, tt.args...)
		if code != ExitUsage || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line with %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestBenchCompareFiles(t *testing.T) {
	code, out, errs := runSurge(t, "bench", "compare", filepath.Join(benchTestdata, "old.txt"), filepath.Join(benchTestdata, "new.txt"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want, err := os.ReadFile(filepath.Join(benchTestdata, "compare.txt.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s/compare.txt.golden:\n%s", benchTestdata, out)
	}
}

func TestBenchFailOn(t *testing.T) {
	old, cur := filepath.Join(benchTestdata, "old.txt"), filepath.Join(benchTestdata, "new.txt")
	tests := []struct {
		rule string
		code int
		want string
	}{
		// Decode/size=1k rose 8.83% (p=0.000): beyond 5%, within 10%.
		{"sec/op:+5%", ExitThresholdsFailed, "Decode/size=1k-2: sec/op changed +8.83% (p=0.000), beyond sec/op:+5%"},
		{"ns/op:+5%", ExitThresholdsFailed, "Decode/size=1k-2"},
		{"sec/op:+10%", 0, ""},
		// Encode/size=64 fell 14.41%, an improvement: a rise rule ignores it.
		{"B/s:-5%", ExitThresholdsFailed, "Decode/size=1k-2: B/s changed -8.11%"},
		// Hash-2 changes by 3% without significance; never fails.
		{"sec/op:+1%", ExitThresholdsFailed, "Decode/size=1k-2"},
	}
	for _, tt := range tests {
		code, out, errs := runSurge(t, "bench", "compare", old, cur, "--fail-on", tt.rule)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("--fail-on %s: exit %d, want %d with %q; stdout:\n%s\nstderr: %s", tt.rule, code, tt.code, tt.want, out, errs)
		}
		if strings.Contains(out, "✗ Hash-2") {
			t.Errorf("--fail-on %s failed an insignificant change:\n%s", tt.rule, out)
		}
	}
}

func TestBenchUnparseableLines(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	data := "goos: linux\nBenchmarkA-2 100 10 ns/op\nBenchmarkA-2 xx 10 ns/op\nBenchmarkA-2 100 11 ns/op\nBenchmarkA-2 100 12 ns/op oops\n"
	if err := os.WriteFile(bad, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runSurge(t, "bench", "compare", bad, bad)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"bad.txt:3: parsing iteration count", "bad.txt:5: parsing measurement"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, "A-2") || !strings.Contains(out, "n=2") {
		t.Errorf("the two good lines were not used:\n%s", out)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("PASS\n"), 0o644)
	if code, _, errs := runSurge(t, "bench", "compare", empty, bad); code != ExitError || !strings.Contains(errs, "no benchmark results in it") {
		t.Errorf("empty file: exit %d %q", code, errs)
	}
}

// TestBenchSaveCompare saves a command baseline (raw samples, machine,
// commit) and compares a slower run against a baseline under the same
// name: a significant regression fails --fail-on with exit code 99.
func TestBenchSaveCompare(t *testing.T) {
	dir := t.TempDir()
	before, _ := bench.GitCommit(".")
	code, _, errs := runSurge(t, "bench", "--dir", dir, "--save", "base", "-r", "6", "-n", "work", "--", "sleep 0.01")
	if code != 0 {
		t.Fatalf("save: exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(filepath.Join(dir, "base.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Name    string
		Kind    string
		Machine struct {
			GOOS   string
			NumCPU int `json:"num_cpu"`
		}
		Commit string
		Series []struct {
			Name, Unit string
			Values     []float64
		}
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	// Empty outside a git checkout; others may commit meanwhile here.
	if after, _ := bench.GitCommit("."); b.Commit != after && b.Commit != before {
		t.Errorf("baseline commit %q, want %q", b.Commit, after)
	}
	if b.Name != "base" || b.Kind != "commands" || b.Machine.GOOS == "" || b.Machine.NumCPU == 0 {
		t.Errorf("baseline header %+v", b)
	}
	if len(b.Series) == 0 || b.Series[0].Name != "work" || b.Series[0].Unit != "sec/op" || len(b.Series[0].Values) != 6 {
		t.Fatalf("baseline series %+v, want 6 raw sec/op samples of work", b.Series)
	}
	// A regression against a baseline of 1 ms runs (written here, so that
	// load on the machine can only widen the gap): sleep 0.05 is always
	// significantly slower.
	fast := &bench.Set{}
	for i := range 6 {
		fast.Add("", "work", "sec/op", 0.001+float64(i)*1e-5)
	}
	if _, err := bench.SaveBaseline(dir, bench.NewBaseline("fast", "commands", ".", fast, nil)); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "cmp")
	code2, out2, errs2 := runSurge(t, "bench", "--dir", dir, "--compare", "fast", "--fail-on", "sec/op:+20%", "-r", "6", "-n", "work",
		"--export-json", exp+".json", "--export-csv", exp+".csv", "--export-markdown", exp+".md", "--export-html", exp+".html", "--", "sleep 0.05")
	if code2 != ExitThresholdsFailed || !strings.Contains(out2, "✗ work: sec/op changed +") || !strings.Contains(errs2, "significant change(s) beyond --fail-on sec/op:+20%") ||
		!strings.Contains(errs2, "comparing with baseline fast from ") {
		t.Errorf("regression: exit %d\nstdout:\n%s\nstderr: %s", code2, out2, errs2)
	}
	for ext, want := range map[string]string{".json": `"comparisons"`, ".csv": "old_median", ".md": "| work |", ".html": "<svg"} {
		got, err := os.ReadFile(exp + ext)
		if err != nil || !strings.Contains(string(got), want) {
			t.Errorf("export %s: %v; lacks %q", ext, err, want)
		}
	}
	if code, _, errs := runSurge(t, "bench", "--dir", dir, "--compare", "nosuch", "--", "true"); code != ExitError || !strings.Contains(errs, `no baseline "nosuch"`) {
		t.Errorf("missing baseline: exit %d %q", code, errs)
	}
}

func TestBenchParameterScan(t *testing.T) {
	code, out, errs := runSurge(t, "bench", "-N", "-r", "2", "-P", "ms", "1", "3", "-D", "2", "-L", "word", "x,y", "--", "echo {ms}{word}")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Benchmark 1: echo 1x", "Benchmark 2: echo 1y", "Benchmark 3: echo 3x", "Benchmark 4: echo 3y"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestBenchGo runs real Go benchmarks of examples/bench/gobench, and a
// pattern that matches none.
func TestBenchGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package")
	}
	pkg := "../../examples/bench/gobench"
	code, out, errs := runSurge(t, "bench", "go", pkg, "--count", "2", "--benchtime", "100x", "--histogram")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"pkg: github.com/surgeload/surge/examples/bench/gobench", "Concat-", "Builder-", "B/op", "allocs/op", "geomean", "(sec/op)\n  ["} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, _, errs = runSurge(t, "bench", "go", pkg, "--bench", "NoSuchBench", "--count", "1")
	if code != ExitError || !strings.Contains(errs, `no benchmarks matched -bench "NoSuchBench" in `+pkg) {
		t.Errorf("no match: exit %d, stderr %q", code, errs)
	}
}
