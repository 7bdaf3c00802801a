package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBaselineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	set := &Set{Label: "x"}
	set.Add("pkg", "A-2", "sec/op", 1.5e-6)
	set.Add("pkg", "A-2", "sec/op", 1.6e-6)
	b := NewBaseline("main", "go", ".", set, nil)
	path, err := SaveBaseline(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "main.json") {
		t.Errorf("saved to %s", path)
	}
	for _, ref := range []string{"main", path} {
		got, bad, err := Load(dir, ref)
		if err != nil || len(bad) > 0 {
			t.Fatalf("Load(%q): %v %v", ref, err, bad)
		}
		s, ok := got.Get("pkg", "A-2", "sec/op")
		if !ok || !slices.Equal(s.Values, []float64{1.5e-6, 1.6e-6}) || got.Label != "main" {
			t.Errorf("Load(%q) = %+v", ref, got)
		}
		if got.Origin == nil || got.Origin.Machine.NumCPU == 0 || got.Origin.MachineDiffers(CurrentMachine()) != "" {
			t.Errorf("Load(%q) origin %+v", ref, got.Origin)
		}
		if !strings.HasPrefix(got.Origin.Describe(), "baseline main from ") {
			t.Errorf("Describe() = %q", got.Origin.Describe())
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{not json"), 0o644)
	tests := []struct {
		ref, want string
	}{
		{"nosuch", `no baseline "nosuch"`},
		{"broken", "reading baseline"},
		{filepath.Join(dir, "missing.txt"), "reading "},
	}
	for _, tt := range tests {
		if _, _, err := Load(dir, tt.ref); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) err = %v, want %q", tt.ref, err, tt.want)
		}
	}
	if _, err := BaselinePath(dir, "../x"); err == nil {
		t.Error("BaselinePath accepted ../x")
	}
}

func TestMachineDiffers(t *testing.T) {
	here := Machine{GOOS: "linux", GOARCH: "amd64", CPU: "A", NumCPU: 2}
	tests := []struct {
		there Machine
		want  string
	}{
		{here, ""},
		{Machine{GOOS: "linux", GOARCH: "amd64", CPU: "B", NumCPU: 2}, `CPU "B", here "A"`},
		{Machine{GOOS: "darwin", GOARCH: "arm64", CPU: "A", NumCPU: 8}, "darwin/arm64, here linux/amd64; 8 CPUs, here 2"},
	}
	for _, tt := range tests {
		b := Baseline{Machine: tt.there, Created: time.Now()}
		if got := b.MachineDiffers(here); got != tt.want {
			t.Errorf("MachineDiffers = %q, want %q", got, tt.want)
		}
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want Threshold
		err  bool
	}{
		{"sec/op:+5%", Threshold{"sec/op", 5}, false},
		{"ns/op:+5%", Threshold{"sec/op", 5}, false},
		{"B/op:-2.5%", Threshold{"B/op", -2.5}, false},
		{" allocs/op : +0% ", Threshold{"allocs/op", 0}, false},
		{"sec/op:5%", Threshold{}, true},
		{"sec/op+5%", Threshold{}, true},
		{"sec/op:+x%", Threshold{}, true},
		{":+5%", Threshold{}, true},
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestCheckThresholds(t *testing.T) {
	tables := Compare(parseFile(t, "old.txt"), parseFile(t, "new.txt"), CompareOptions{})
	names := func(v []Violation) []string {
		var s []string
		for _, x := range v {
			s = append(s, x.Name+" "+x.Threshold.Unit)
		}
		return s
	}
	tests := []struct {
		rules []Threshold
		want  []string
	}{
		{[]Threshold{{"sec/op", 5}}, []string{"Decode/size=1k-2 sec/op"}},
		{[]Threshold{{"sec/op", -5}}, []string{"Encode/size=64-2 sec/op"}},
		{[]Threshold{{"sec/op", 10}}, nil},
		{[]Threshold{{"B/op", 0}}, nil}, // all equal: never significant
		{[]Threshold{{"B/s", -5}, {"sec/op", 5}}, []string{"Decode/size=1k-2 B/s", "Decode/size=1k-2 sec/op"}},
	}
	for _, tt := range tests {
		if got := names(CheckThresholds(tables, tt.rules)); !slices.Equal(got, tt.want) {
			t.Errorf("CheckThresholds(%v) = %v, want %v", tt.rules, got, tt.want)
		}
	}
}
