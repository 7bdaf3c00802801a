package plot

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/bench/stats"
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

func ms(v float64) string { return fmt.Sprintf("%.1fms", v) }

func TestHistogram(t *testing.T) {
	xs := []float64{10, 11, 11, 12, 12, 12, 13, 13, 14, 20}
	var b bytes.Buffer
	if err := Histogram(&b, stats.Bins(xs, 5), ms); err != nil {
		t.Fatal(err)
	}
	golden(t, "histogram.golden", b.Bytes())
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	var counts []string
	for _, l := range lines {
		f := strings.Fields(l)
		counts = append(counts, f[len(f)-1])
	}
	if !slices.Equal(counts, []string{"3", "5", "1", "0", "1"}) {
		t.Errorf("counts %v, want 3 5 1 0 1 (bins of 2ms from 10ms, 20ms in the last)", counts)
	}
	if !strings.Contains(lines[1], strings.Repeat("█", HistogramWidth)) {
		t.Errorf("the fullest bin does not get a full bar: %q", lines[1])
	}
	b.Reset()
	Histogram(&b, stats.Histogram{}, ms)
	if !strings.Contains(b.String(), "no values") {
		t.Errorf("empty histogram: %q", b.String())
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		cells float64
		want  string
	}{{0, ""}, {1, "█"}, {2.5, "██▌"}, {0.125, "▏"}, {0.1, ""}}
	for _, tt := range tests {
		if got := Bar(tt.cells); got != tt.want {
			t.Errorf("Bar(%v) = %q, want %q", tt.cells, got, tt.want)
		}
	}
}

func TestTukey(t *testing.T) {
	b := tukey([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 100})
	if b.Q1 != 3.25 || b.Median != 5.5 || b.Q3 != 7.75 || b.Lo != 1 || b.Hi != 9 || !slices.Equal(b.Outliers, []float64{100}) {
		t.Errorf("tukey = %+v", b)
	}
}

func TestBoxPlotHTML(t *testing.T) {
	groups := []BoxGroup{
		{Title: "Encode <sec/op>", Format: ms, Boxes: []Box{
			{Label: "old", Values: []float64{10, 11, 12, 11, 10.5, 30}},
			{Label: "new <script>", Values: []float64{8, 8.5, 9, 8.2, 8.8}},
		}},
		{Title: "flat", Format: ms, Boxes: []Box{{Label: "one", Values: []float64{5, 5, 5}}, {Label: "none"}}},
	}
	var b bytes.Buffer
	if err := BoxPlotHTML(&b, "bench & compare", groups); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	golden(t, "boxplot.html.golden", b.Bytes())
	if strings.Contains(html, "<script>") || !strings.Contains(html, "new &lt;script&gt;") {
		t.Error("labels are not escaped")
	}
	// Self-contained: the only URL is the SVG namespace.
	for _, u := range regexp.MustCompile(`(?:src|href)=|https?://[^"]*`).FindAllString(html, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("external reference %q", u)
		}
	}
	if n := strings.Count(html, `<rect class="box"`); n != 3 {
		t.Errorf("%d boxes, want 3 (the empty sample has none)", n)
	}
	if n := strings.Count(html, `<circle class="out"`); n != 1 {
		t.Errorf("%d outlier marks, want 1", n)
	}
}
