package bench

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
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
		t.Errorf("%s differs from golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}

func parseFile(t *testing.T, name string) *Set {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	set, bad, err := ParseGoBench(f, name, name)
	if err != nil || len(bad) > 0 {
		t.Fatalf("parsing %s: %v %v", name, err, bad)
	}
	return set
}

// TestCompareAgreesWithBenchstat checks surge's comparison against
// benchstat's own output for the same two files (benchstat -format csv
// old.txt new.txt, checked in as testdata/benchstat.csv.golden): centers to
// full precision, intervals, changes, p values and n.
func TestCompareAgreesWithBenchstat(t *testing.T) {
	tables := Compare(parseFile(t, "old.txt"), parseFile(t, "new.txt"), CompareOptions{})
	want := readBenchstatCSV(t, "testdata/benchstat.csv.golden")
	if len(tables) != len(want) {
		t.Fatalf("%d tables, benchstat has %d", len(tables), len(want))
	}
	for i, tab := range tables {
		w := want[i]
		if tab.Unit != w.unit {
			t.Errorf("table %d unit %q, benchstat %q", i, tab.Unit, w.unit)
		}
		if len(tab.Rows) != len(w.rows) {
			t.Fatalf("%s: %d rows, benchstat has %d", tab.Unit, len(tab.Rows), len(w.rows))
		}
		for j, r := range tab.Rows {
			got := []string{r.Name, fmtCenter(r.OldSum.Center), r.OldSum.PctRangeString(),
				fmtCenter(r.NewSum.Center), r.NewSum.PctRangeString(), r.Cmp.Delta(), r.Cmp.Test.String()}
			for k := range got {
				if !sameCell(got[k], w.rows[j][k]) {
					t.Errorf("%s %s column %d: surge %q, benchstat %q", tab.Unit, r.Name, k, got[k], w.rows[j][k])
				}
			}
		}
		if gm := tab.Geomean; gm != nil {
			if d := fmt.Sprintf("%+.2f%%", (gm.Ratio-1)*100); d != w.geomean[5] {
				t.Errorf("%s geomean change %q, benchstat %q", tab.Unit, d, w.geomean[5])
			}
			if !sameCell(fmtCenter(gm.Old), w.geomean[1]) || !sameCell(fmtCenter(gm.New), w.geomean[3]) {
				t.Errorf("%s geomean %v %v, benchstat %q %q", tab.Unit, gm.Old, gm.New, w.geomean[1], w.geomean[3])
			}
		}
	}
}

func fmtCenter(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return fmt.Sprint(v)
}

// sameCell compares numbers with a relative tolerance of 1e-12 (summation
// order may differ) and anything else exactly.
func sameCell(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil {
		return math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y))
	}
	return a == b
}

type bsTable struct {
	unit    string
	rows    [][]string
	geomean []string
}

func readBenchstatCSV(t *testing.T, path string) []bsTable {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []bsTable
	for _, block := range strings.Split(string(data), "\n\n") {
		rd := csv.NewReader(strings.NewReader(block))
		rd.FieldsPerRecord = -1
		recs, err := rd.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var tab bsTable
		for _, rec := range recs {
			switch {
			case len(rec) == 1: // config lines (goos: linux)
			case rec[0] == "" && rec[1] == "old.txt":
			case rec[0] == "" && rec[2] == "CI":
				tab.unit = rec[1]
			case rec[0] == "geomean":
				tab.geomean = rec
			default:
				tab.rows = append(tab.rows, rec)
			}
		}
		out = append(out, tab)
	}
	return out
}

// TestTextAgreesWithBenchstat compares surge's text table with benchstat's
// text output (testdata/benchstat.golden, from `benchstat old.txt
// new.txt`) row by row, ignoring spacing and footnote marks.
func TestTextAgreesWithBenchstat(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, Compare(parseFile(t, "old.txt"), parseFile(t, "new.txt"), CompareOptions{})); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/benchstat.golden")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(text string) []string {
		var rows []string
		for _, line := range strings.Split(text, "\n") {
			if strings.Contains(line, "vs base") || strings.ContainsAny(strings.SplitN(strings.TrimSpace(line), " ", 2)[0], "⁰¹²³⁴⁵⁶⁷⁸⁹") {
				continue // column headers, footnotes
			}
			f := strings.Fields(strings.Map(func(r rune) rune {
				if strings.ContainsRune("⁰¹²³⁴⁵⁶⁷⁸⁹│", r) {
					return ' '
				}
				return r
			}, line))
			if len(f) < 2 || strings.HasSuffix(f[0], ":") || strings.Contains(line, ".txt") {
				continue // config and header lines
			}
			if f[0] == "geomean" { // surge marks a missing geomean with "-"
				f = slices.DeleteFunc(f, func(s string) bool { return s == "-" })
			}
			if len(f) == 2 && strings.Contains(f[1], "/") {
				continue // unit header line
			}
			rows = append(rows, strings.Join(f, " "))
		}
		return rows
	}
	got, exp := norm(b.String()), norm(string(want))
	if len(exp) != 24 {
		t.Fatalf("read %d rows from benchstat.golden, want 24 (4 units × 6)", len(exp))
	}
	if len(got) != len(exp) {
		t.Fatalf("%d rows, benchstat has %d:\n%s\n---\n%s", len(got), len(exp), strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	for i := range got {
		if got[i] != exp[i] {
			t.Errorf("row %d:\n surge     %s\n benchstat %s", i, got[i], exp[i])
		}
	}
}

func TestWriteTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, Compare(parseFile(t, "old.txt"), parseFile(t, "new.txt"), CompareOptions{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt.golden", b.Bytes())
	// The numbers benchstat prints appear in surge's table as well.
	for _, s := range []string{"120.1n ± 3%", "102.8n ± 3%", "-14.41% (p=0.000 n=10)", "~ (p=0.280 n=10)", "+8.83%", "-1.59%"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("text table lacks %q", s)
		}
	}
}
