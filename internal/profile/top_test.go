package profile

import (
	"math"
	"regexp"
	"testing"
)

func TestTopFunctions(t *testing.T) {
	top := TopFunctions(synthetic(newStacks), 3)
	want := []struct {
		name        string
		self, total float64
	}{
		{"json.Marshal", 0.48, 0.48},
		{"main.db", 0.40, 0.40},
		{"main.parse", 0.12, 0.12},
	}
	if len(top) != len(want) {
		t.Fatalf("got %d rows, want %d", len(top), len(want))
	}
	for i, w := range want {
		g := top[i]
		if g.Name != w.name || math.Abs(g.SelfShare-w.self) > 1e-9 || math.Abs(g.TotalShare-w.total) > 1e-9 {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	all := TopFunctions(synthetic(newStacks), 0)
	for _, f := range all {
		if f.Name == "main.serve" && (f.Self != 0 || f.TotalShare != 1) {
			t.Errorf("main.serve = %+v, want self 0, total 100%%", f)
		}
	}
}

func TestRecursionCountsOncePerSample(t *testing.T) {
	p := synthetic(map[string]int64{"main.main;main.rec;main.rec;main.rec": 5, "main.main;main.other": 5})
	for _, f := range TopFunctions(p, 0) {
		if f.Name == "main.rec" && f.TotalShare != 0.5 {
			t.Fatalf("recursive main.rec total = %v, want 0.5", f.TotalShare)
		}
	}
}

func TestSentence(t *testing.T) {
	base, next := synthetic(baseStacks), synthetic(newStacks)
	for _, tc := range []struct {
		base, new map[string]int64
		want      string
	}{
		{baseStacks, newStacks, "48% of CPU is in json.Marshal, up from 12%"},
		{newStacks, baseStacks, "60% of CPU is in main.db, up from 40%"},
		{map[string]int64{"a": 50, "b": 50}, map[string]int64{"a": 506, "b": 494}, "51% of CPU is in a, up from 50%"},
		{map[string]int64{"a": 50, "b": 50}, map[string]int64{"a": 502, "b": 498}, "50% of CPU is in a, unchanged"},
		{map[string]int64{"a": 40, "b": 60}, map[string]int64{"a": 395, "b": 605}, "60% of CPU is in b, unchanged"},
		{map[string]int64{"a": 80, "b": 20}, map[string]int64{"a": 795, "b": 205}, "80% of CPU is in a, unchanged"},
		{newStacks, newStacks, "48% of CPU is in json.Marshal, unchanged"},
		{map[string]int64{"a;b": 1}, map[string]int64{"a": 999, "b": 1}, "100% of CPU is in a, up from 0%"},
		{map[string]int64{"x": 995, "a": 5}, map[string]int64{"x": 1, "a": 999}, "100% of CPU is in a, up from 0.5%"},
	} {
		if got := Sentence(synthetic(tc.base), synthetic(tc.new)); got != tc.want {
			t.Errorf("Sentence = %q, want %q", got, tc.want)
		}
	}
	if got := Sentence(nil, next); got != "48% of CPU is in json.Marshal" {
		t.Errorf("Sentence(nil, new) = %q", got)
	}
	if got := Sentence(base, synthetic(nil)); got != "no CPU samples were recorded" {
		t.Errorf("empty: %q", got)
	}
}

func TestLinesHottestFirst(t *testing.T) {
	fls := Lines(synthetic(newStacks), regexp.MustCompile(`^json\.Marshal$`), 0)
	if len(fls) != 1 {
		t.Fatalf("got %d functions", len(fls))
	}
	f := fls[0]
	if f.Total != 48 || f.Self != 48 || len(f.Lines) != 2 || f.Lines[0].Line != 10 || f.Lines[0].Total != 38 || f.Lines[1].Line != 11 {
		t.Fatalf("lines = %+v", f)
	}
	// A caller's lines count as total, not self.
	serve := Lines(synthetic(newStacks), regexp.MustCompile(`^main\.serve$`), 0)[0]
	if serve.Self != 0 || serve.Total != 100 {
		t.Fatalf("main.serve = self %d total %d, want 0 and 100", serve.Self, serve.Total)
	}
}

func TestChangesOrderByMagnitude(t *testing.T) {
	ch := TopChanges(synthetic(baseStacks), synthetic(newStacks), 0)
	if ch[0].Name != "json.Marshal" || math.Abs(ch[0].Delta()-0.36) > 1e-9 {
		t.Fatalf("first change = %+v, want json.Marshal +0.36", ch[0])
	}
	if ch[1].Name != "main.db" || math.Abs(ch[1].Delta()+0.20) > 1e-9 {
		t.Fatalf("second change = %+v, want main.db -0.20", ch[1])
	}
}
