package pgstat

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures are the plans gen.sh captured from a real PostgreSQL 15.
var fixtures = []string{"parallel", "nestloop", "cte", "initplan", "spill", "trigger", "noanalyze"}

func loadFixture(t *testing.T, name string) *Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return p
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
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
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestGoldenText(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			p := loadFixture(t, name)
			var b bytes.Buffer
			if err := WriteText(&b, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt", b.Bytes())
		})
	}
}

func TestGoldenColorText(t *testing.T) {
	p := loadFixture(t, "nestloop")
	var b bytes.Buffer
	if err := WriteText(&b, p, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte(styleBoldRed)) {
		t.Error("colored output has no critical (bold red) cell")
	}
	golden(t, "nestloop.color.txt", b.Bytes())
}

func TestGoldenJSONAndHTML(t *testing.T) {
	for _, name := range []string{"cte", "initplan"} {
		p := loadFixture(t, name)
		var j, h bytes.Buffer
		if err := WriteJSON(&j, p); err != nil {
			t.Fatal(err)
		}
		golden(t, name+".json.golden", j.Bytes())
		if err := WriteHTMLSection(&h, p); err != nil {
			t.Fatal(err)
		}
		golden(t, name+".html", h.Bytes())
	}
}

// BenchmarkParseAnalyze parses and analyzes the CTE plan (8 nodes).
func BenchmarkParseAnalyze(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "cte.json"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
