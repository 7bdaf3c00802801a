package profile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// synthetic builds a CPU-like profile from "root;child;leaf:LINE" stacks.
// A frame "a+b" is b inlined into a (one location, two lines).
func synthetic(stacks map[string]int64) *profile.Profile {
	p := &profile.Profile{
		SampleType:        []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		DefaultSampleType: "samples",
		PeriodType:        &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:            10000000,
	}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, Filename: "/src/" + strings.Split(name, ".")[0] + ".go"}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	keys := make([]string, 0, len(stacks))
	for k := range stacks {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		frames := strings.Split(k, ";")
		s := &profile.Sample{Value: []int64{stacks[k], stacks[k] * 10000000}}
		for i := len(frames) - 1; i >= 0; i-- {
			l := &profile.Location{ID: uint64(len(p.Location) + 1)}
			parts := strings.Split(frames[i], "+")
			for j := len(parts) - 1; j >= 0; j-- {
				name, line, _ := strings.Cut(parts[j], ":")
				var n int64
				for _, c := range line {
					n = n*10 + int64(c-'0')
				}
				l.Line = append(l.Line, profile.Line{Function: fn(name), Line: n})
			}
			p.Location = append(p.Location, l)
			s.Location = append(s.Location, l)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

var baseStacks = map[string]int64{
	"main.main;main.serve;json.Marshal:10": 12,
	"main.main;main.serve;main.db:20":      60,
	"main.main;main.serve+main.parse:30":   28,
}

var newStacks = map[string]int64{
	"main.main;main.serve;json.Marshal:10": 38,
	"main.main;main.serve;json.Marshal:11": 10,
	"main.main;main.serve;main.db:20":      40,
	"main.main;main.serve+main.parse:30":   12,
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (go test -update to accept):\n%s", name, got)
	}
}

func TestOutputsGolden(t *testing.T) {
	base, next := synthetic(baseStacks), synthetic(newStacks)
	for _, tc := range []struct {
		file string
		fn   func(*bytes.Buffer) error
	}{
		{"collapsed.txt", func(b *bytes.Buffer) error { return Write(b, next, "collapsed", "") }},
		{"top.txt", func(b *bytes.Buffer) error { return WriteTop(b, next, 10) }},
		{"changes.txt", func(b *bytes.Buffer) error { return WriteChanges(b, base, next, 10) }},
		{"lines.txt", func(b *bytes.Buffer) error { return WriteLines(b, next, regexp.MustCompile(`json|parse`), "") }},
		{"speedscope.json", func(b *bytes.Buffer) error { return Write(b, next, "speedscope", "") }},
		{"flamegraph.html", func(b *bytes.Buffer) error { return WriteFlameGraph(b, next) }},
		{"diff.html", func(b *bytes.Buffer) error { return WriteDiffFlameGraph(b, base, next) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.fn(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, b.Bytes())
		})
	}
}

func TestCollapsedInlinedFramesExpand(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCollapsed(&b, synthetic(baseStacks), 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "main.main;main.serve;main.parse 28\n") {
		t.Fatalf("inlined main.parse not expanded under main.serve:\n%s", b.String())
	}
}

func TestFlameGraphIsSelfContained(t *testing.T) {
	for _, fn := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return WriteFlameGraph(b, synthetic(newStacks)) },
		func(b *bytes.Buffer) error {
			return WriteDiffFlameGraph(b, synthetic(baseStacks), synthetic(newStacks))
		},
	} {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			t.Fatal(err)
		}
		html := b.String()
		if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|<link|src=`).FindString(html); m != "" {
			t.Errorf("flame graph refers to something outside the file: %q", m)
		}
		if !strings.Contains(html, `"json.Marshal"`) {
			t.Error("flame graph data lacks json.Marshal")
		}
	}
}

func TestSpeedscopeStructure(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, synthetic(newStacks), "speedscope", ""); err != nil {
		t.Fatal(err)
	}
	var f ssFile
	if err := json.Unmarshal(b.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	pr := f.Profiles[0]
	if pr.Type != "sampled" || pr.EndValue != 100 || len(pr.Samples) != len(pr.Weights) {
		t.Fatalf("speedscope profile = %+v", pr)
	}
	for _, s := range pr.Samples {
		if f.Shared.Frames[s[0]].Name != "main.main" {
			t.Fatalf("sample does not start at the root: %v", s)
		}
	}
}

func TestWriteRejectsUnknownFormatAndSampleType(t *testing.T) {
	p := synthetic(baseStacks)
	if err := Write(&bytes.Buffer{}, p, "svg", ""); err == nil || !strings.Contains(err.Error(), `unknown format "svg"`) {
		t.Errorf("format svg: %v", err)
	}
	if err := Write(&bytes.Buffer{}, p, "pprof", "alloc_space"); err == nil || !strings.Contains(err.Error(), "samples, cpu") {
		t.Errorf("sample type: %v", err)
	}
}
