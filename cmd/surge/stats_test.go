package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func seqLines(lo, hi int) string {
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		b.WriteString(strconv.Itoa(i) + "\n")
	}
	return b.String()
}

// statsRow returns the cells of the row that starts with label.
func statsRow(out, label string) []string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == label {
			return f[1:]
		}
	}
	return nil
}

func TestStatsSideBySide(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.txt": seqLines(1, 1000), "b.txt": seqLines(1, 100) + "oops\n"})
	code, out, errs := runSurge(t, "stats", filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt"), "--bins", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := map[string][]string{
		"count": {"1000", "100"}, "mean": {"500.5", "50.5"}, "min": {"1", "1"}, "p50": {"500.5", "50.5"},
		"p90": {"900.1", "90.1"}, "p99": {"990.01", "99.01"}, "p99.9": {"999.001", "99.901"}, "p99.99": {"999.9", "99.9901"}, "max": {"1000", "100"},
	}
	for label, cells := range want {
		if got := statsRow(out, label); strings.Join(got, " ") != strings.Join(cells, " ") {
			t.Errorf("%s = %v, want %v", label, got, cells)
		}
	}
	if !strings.Contains(errs, "b.txt:101: not a number: \"oops\" (skipped)") {
		t.Errorf("stderr lacks the bad line with its number: %q", errs)
	}
	if strings.Count(out, "████") < 8 {
		t.Errorf("want a 4-bin histogram per file:\n%s", out)
	}
}

func TestStatsFormats(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"lat.csv":    "ts,latency_ms\n1,10\n2,20\n3,30\n4,1000\n",
		"lat.ndjson": `{"t":{"ms":5}}` + "\n" + `{"t":{"ms":7}}` + "\n" + `{"t":{}}` + "\n",
	})
	tests := []struct {
		args []string
		want map[string]string // row label → first cell
		errs string
	}{
		{[]string{"--column", "latency_ms", "lat.csv"}, map[string]string{"count": "4", "max": "1000"}, ""},
		{[]string{"--column", "2", "--warmup", "1", "lat.csv"}, map[string]string{"count": "3", "min": "20"}, ""},
		{[]string{"--field", "t.ms", "lat.ndjson"}, map[string]string{"count": "2", "mean": "6"}, `lat.ndjson:3: no field "t.ms"`},
	}
	for _, tt := range tests {
		args := append([]string{"stats", "--no-histogram"}, tt.args...)
		args[len(args)-1] = filepath.Join(dir, args[len(args)-1])
		code, out, errs := runSurge(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errs)
		}
		for label, cell := range tt.want {
			if got := statsRow(out, label); len(got) == 0 || got[0] != cell {
				t.Errorf("%v: %s = %v, want %s", tt.args, label, got, cell)
			}
		}
		if tt.errs != "" && !strings.Contains(errs, tt.errs) {
			t.Errorf("%v: stderr %q lacks %q", tt.args, errs, tt.errs)
		}
		if strings.Contains(out, "█") {
			t.Errorf("--no-histogram drew one")
		}
	}
}

func TestStatsStdinAndExports(t *testing.T) {
	old := statsStdin
	defer func() { statsStdin = old }()
	statsStdin = strings.NewReader("3\n1\n2\n")
	code, out, errs := runSurge(t, "stats", "--format", "json", "-")
	if code != 0 || !strings.Contains(out, `"name": "stdin"`) || !strings.Contains(out, `"count": 3`) {
		t.Errorf("stdin json: exit %d %q %q", code, out, errs)
	}
	statsStdin = strings.NewReader("3\n1\n2\n")
	if code, out, _ := runSurge(t, "stats", "--format", "csv", "-"); code != 0 || !strings.Contains(out, "p50,2\n") {
		t.Errorf("csv: exit %d %q", code, out)
	}
	statsStdin = strings.NewReader("3\n1\n2\n")
	if code, out, _ := runSurge(t, "stats", "--format", "markdown", "-"); code != 0 || !strings.Contains(out, "| p50 | 2 |") {
		t.Errorf("markdown: exit %d %q", code, out)
	}
}

func TestStatsErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.txt": "1\n2\n", "h.csv": "x,y\n1,2\n", "words.txt": "a\nb\n"})
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"stats"}, ExitUsage, "no input"},
		{[]string{"stats", "--column", "x", "--field", "y", "a.txt"}, ExitUsage, "exclude each other"},
		{[]string{"stats", "--format", "xml", "a.txt"}, ExitUsage, `--format "xml"`},
		{[]string{"stats", "--warmup", "-1", "a.txt"}, ExitUsage, "must not be negative"},
		{[]string{"stats", "missing.txt"}, ExitError, "missing.txt"},
		{[]string{"stats", "--warmup", "5", "a.txt"}, ExitError, "all 2 values dropped by --warmup 5"},
		{[]string{"stats", "--column", "z", "h.csv"}, ExitError, `no column "z" in header x,y`},
		{[]string{"stats", "words.txt"}, ExitError, "no numbers in it"},
	}
	for _, tt := range tests {
		args := append([]string(nil), tt.args...)
		if n := len(args); n > 1 && strings.Contains(args[n-1], ".") {
			args[n-1] = filepath.Join(dir, args[n-1])
		}
		code, _, errs := runSurge(t, args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
}
