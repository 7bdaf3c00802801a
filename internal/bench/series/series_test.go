package series

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden; got:\n%s", name, got)
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []float64
		bad   []string
		err   string
	}{
		{"lines", "1\n2.5\n\n# comment\n-3e2\n", Options{}, []float64{1, 2.5, -300}, nil, ""},
		{"bad lines kept going", "1\nabc\n3\nNaN\n", Options{}, []float64{1, 3}, []string{"in:2: not a number: \"abc\"", "in:4: not a number: \"NaN\""}, ""},
		{"warmup", "9\n8\n1\n2\n", Options{Warmup: 2}, []float64{1, 2}, nil, ""},
		{"all dropped", "1\n2\n", Options{Warmup: 5}, nil, nil, "all 2 values dropped by --warmup 5"},
		{"empty", "# nothing\n", Options{}, nil, nil, "no numbers in it"},
		{"csv by name", "ts,lat\n1,10\n2,20\n3,x\n", Options{Column: "lat"}, []float64{10, 20}, []string{"in:4: not a number: \"x\""}, ""},
		{"csv by index with header", "ts,lat\n1,10\n2,20\n", Options{Column: "2"}, []float64{10, 20}, nil, ""},
		{"csv by index no header", "1,10\n2,20\n", Options{Column: "1"}, []float64{1, 2}, nil, ""},
		{"csv short row", "a,b\n1,2\n3\n", Options{Column: "b"}, []float64{2}, []string{"in:3: only 1 columns, no column b"}, ""},
		{"csv missing column", "a,b\n1,2\n", Options{Column: "lat"}, nil, nil, `no column "lat" in header a,b`},
		{"csv index zero", "1\n", Options{Column: "0"}, nil, nil, "columns count from 1"},
		{"ndjson", `{"d":1}` + "\n" + `{"d":"2.5"}` + "\n\n" + `{"x":1}` + "\n" + `not json` + "\n", Options{Field: "d"}, []float64{1, 2.5},
			[]string{`in:4: no field "d"`, "in:5: not JSON"}, ""},
		{"ndjson nested", `{"t":{"dur":7}}` + "\n" + `{"t":3}` + "\n" + `{"t":{"dur":true}}` + "\n", Options{Field: "t.dur"}, []float64{7},
			[]string{`in:2: field "t.dur": "t" is not an object`, `in:3: field "t.dur" is not a number: true`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, bad, err := Read(strings.NewReader(tt.input), "in", tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Values, tt.want) {
				t.Errorf("values %v, want %v", s.Values, tt.want)
			}
			if len(bad) != len(tt.bad) {
				t.Fatalf("bad lines %v, want %v", bad, tt.bad)
			}
			for i := range bad {
				if !strings.HasPrefix(bad[i].Error(), tt.bad[i]) {
					t.Errorf("bad line %q, want prefix %q", bad[i].Error(), tt.bad[i])
				}
			}
		})
	}
}

func TestReadLongInput(t *testing.T) {
	// Longer than the detection head, so the head and the rest are joined.
	var b strings.Builder
	for i := range 2000 {
		b.WriteString(strings.Repeat(" ", i%3))
		b.WriteString("1\n")
	}
	s, bad, err := Read(strings.NewReader(b.String()), "long", Options{})
	if err != nil || len(bad) != 0 || len(s.Values) != 2000 {
		t.Fatalf("read %d values, %v, %v; want 2000", len(s.Values), bad, err)
	}
}

// TestRegister shows the hook for other sources: a registered format that
// recognizes its input goes before the built-in ones.
func TestRegister(t *testing.T) {
	Register(Format{
		Name: "test-result",
		Detect: func(name string, head []byte, _ Options) bool {
			return bytes.HasPrefix(head, []byte("SURGE-TEST-RESULT"))
		},
		Read: func(r io.Reader, name string, _ Options) ([]float64, []LineError, error) {
			return []float64{42, 43}, nil, nil
		},
	})
	s, _, err := Read(strings.NewReader("SURGE-TEST-RESULT v1\n"), "r", Options{})
	if err != nil || !slices.Equal(s.Values, []float64{42, 43}) {
		t.Fatalf("registered format: %v %v", s.Values, err)
	}
	s, _, err = Read(strings.NewReader("5\n"), "plain", Options{})
	if err != nil || !slices.Equal(s.Values, []float64{5}) {
		t.Fatalf("plain input after Register: %v %v", s.Values, err)
	}
}

func TestReadFile(t *testing.T) {
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.txt"), nil, Options{}); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("err = %v, want one naming the file", err)
	}
	s, _, err := ReadFile("-", strings.NewReader("1\n2\n"), Options{})
	if err != nil || s.Name != "stdin" || len(s.Values) != 2 {
		t.Errorf("stdin: %+v %v", s, err)
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {12.5, "12.5"}, {123456.7, "123457"}, {0.000123456, "0.000123456"},
		{1.5e-7, "1.5e-07"}, {2.5e10, "2.5e+10"}, {-3.25, "-3.25"}, {1.0 / 3, "0.333333"},
	}
	for _, tt := range tests {
		if got := Num(tt.v); got != tt.want {
			t.Errorf("Num(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestReportsGolden(t *testing.T) {
	var a, b Series
	a.Name, b.Name = "a.txt", "b.txt"
	for i := 1; i <= 1000; i++ {
		a.Values = append(a.Values, float64(i))
		b.Values = append(b.Values, float64(i%100)*2)
	}
	b.Dropped = 3
	sums := []Summary{Describe(a), Describe(b)}
	var txt, js, csvb, md bytes.Buffer
	if err := WriteText(&txt, sums, []Series{a, b}, 5); err != nil {
		t.Fatal(err)
	}
	WriteJSON(&js, sums)
	WriteCSV(&csvb, sums)
	WriteMarkdown(&md, sums)
	golden(t, "stats.txt.golden", txt.Bytes())
	golden(t, "stats.json.golden", js.Bytes())
	golden(t, "stats.csv.golden", csvb.Bytes())
	golden(t, "stats.md.golden", md.Bytes())
	for _, want := range []string{"p99.99", "500.5", "999.9001", "b.txt: dropped the first 3 values"} {
		if !strings.Contains(txt.String()+csvb.String(), want) {
			t.Errorf("reports lack %q", want)
		}
	}
}
