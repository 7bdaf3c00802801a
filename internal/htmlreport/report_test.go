package htmlreport

import (
	"bytes"
	"errors"
	"flag"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t testing.TB, seconds int, warmup time.Duration, spikeAt int, o Options) string {
	t.Helper()
	sum, reg := syntheticRun(seconds, warmup, spikeAt)
	var b bytes.Buffer
	if err := Write(&b, sum, reg, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// volatile matches what may differ between machines and runs; the synthetic
// run fixes both, so stripping them guards the golden file should a caller
// pass real ones.
var volatile = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|build-host`)

func TestReportGolden(t *testing.T) {
	o := fixedOptions()
	o.Sections = []Section{{Title: "CPU profile", HTML: template.HTML(`<p class="flame">flame graph here</p>`)}}
	got := volatile.ReplaceAllString(render(t, 20, 3*time.Second, 12, o), "<stripped>")
	golden := filepath.Join("testdata", "report.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (rerun with -update and review the diff)", golden)
	}
}

func TestReportContents(t *testing.T) {
	o := fixedOptions()
	o.Sections = []Section{{Title: "SQL", HTML: template.HTML(`<table id="sql-top"></table>`)}}
	html := render(t, 20, 3*time.Second, -1, o)
	for _, want := range []string{
		"thresholds passed", "<code>p(95)&lt;500</code>", // verdict and threshold
		`id="chart-rate"`, `id="chart-latency"`, `id="chart-vus"`, `id="chart-names"`, // the charts
		`class="warmup"`,                               // warm-up marked
		`<td class="name">/api/orders</td>`, "fails/s", // per-name table
		"status is 200",                                        // checks
		"HTTP 500 Internal Server Error",                       // errors
		"<th>vus</th><td><code>10</code>",                      // configuration
		"1.2.3-test", "linux/amd64", "<th>CPUs</th><td>4</td>", // environment
		`<section id="extra-0" class="extra">`, `<table id="sql-top"></table>`, // extra section, unescaped
		"warm-up: the first 3s are excluded", // notes
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(html, `class="warmup"`); n != 4 {
		t.Errorf("warm-up marked on %d charts, want 4", n)
	}
}

func TestReportThresholdFailed(t *testing.T) {
	sum, reg := syntheticRun(5, 0, -1)
	sum.Thresholds[0].Pass = false
	var b bytes.Buffer
	if err := Write(&b, sum, reg, fixedOptions()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<header class="fail">`) || !strings.Contains(b.String(), "thresholds failed") {
		t.Error("a failed threshold does not turn the header into a failure")
	}
	if strings.Contains(b.String(), `class="warmup"`) {
		t.Error("warm-up marked on a run without warm-up")
	}
}

// externalRef matches anything a browser would fetch or follow off the file.
var externalRef = regexp.MustCompile(`(?i)https?:|\bsrc=|<link\b|@import|url\(|//[a-z0-9.-]+\.[a-z]{2,}/`)

func TestReportHasNoExternalURL(t *testing.T) {
	html := render(t, 30, 5*time.Second, -1, fixedOptions())
	if m := externalRef.FindAllString(html, 5); m != nil {
		t.Errorf("report references outside resources: %q", m)
	}
	if externalRef.FindString(`<img src="x">https://cdn.example/x.js`) == "" {
		t.Fatal("the URL pattern misses obvious references")
	}
}

func TestReportEscapesUserData(t *testing.T) {
	sum, reg := syntheticRun(3, 0, -1)
	sum.Requests[0].Name = `<script>alert(1)</script>`
	sum.Notes = append(sum.Notes, `<img onerror=x>`)
	var b bytes.Buffer
	o := fixedOptions()
	o.Config["script"] = `"><b>`
	if err := Write(&b, sum, reg, o); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{`<script>alert(1)`, `<img onerror`, `"><b>`} {
		if strings.Contains(b.String(), raw) {
			t.Errorf("user data %q was not escaped", raw)
		}
	}
}

// tenMinutes is a 10-minute synthetic run, recorded once for the tests
// that need a long run (recording it takes seconds under -race).
var tenMinutes = sync.OnceValues(func() (*report.Summary, *metrics.Registry) {
	return syntheticRun(600, 30*time.Second, 300)
})

func renderTenMinutes(t *testing.T, o Options) string {
	sum, reg := tenMinutes()
	var b bytes.Buffer
	if err := Write(&b, sum, reg, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportSizeTenMinutes(t *testing.T) {
	html := renderTenMinutes(t, fixedOptions())
	if len(html) >= 1<<20 {
		t.Errorf("10-minute report is %d bytes, want under 1 MB", len(html))
	}
	t.Logf("10-minute report: %d bytes", len(html))
}

func TestReportDownsamplesLongRuns(t *testing.T) {
	o := fixedOptions()
	o.MaxPoints = 100
	html := renderTenMinutes(t, o)
	paths := regexp.MustCompile(`<path class="line" stroke="[^"]*" d="([^"]*)"`).FindAllStringSubmatch(html, -1)
	if len(paths) != 10 {
		t.Fatalf("found %d chart lines, want 10 (2 rates, 4 latencies, VUs, p95 of 3 names)", len(paths))
	}
	for _, p := range paths {
		if n := strings.Count(p[1], "M") + strings.Count(p[1], "L"); n != 100 {
			t.Errorf("a line has %d points, want 100 (600 s merged 6 to 1)", n)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	sum, reg := syntheticRun(2, 0, -1)
	if err := Write(&bytes.Buffer{}, nil, reg, Options{}); err == nil || err.Error() != "html report: no results to render" {
		t.Errorf("nil summary: err = %v", err)
	}
	err := Write(failWriter{}, sum, reg, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "rendering html report: ") || !errors.Is(err, errDiskFull) {
		t.Errorf("failing writer: err = %v, want the write error wrapped", err)
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestMixQuantile(t *testing.T) {
	a := part{count: 100, min: 1, p50: 10, p90: 20, p95: 30, p99: 50, max: 80}
	fast := part{count: 900, min: 1, p50: 2, p90: 3, p95: 3.5, p99: 4, max: 5}
	slow := part{count: 100, min: 100, p50: 200, p90: 300, p95: 350, p99: 400, max: 500}
	tests := []struct {
		name  string
		parts []part
		q     float64
		want  float64
	}{
		{"one part p50 exact", []part{a}, .5, 10},
		{"one part p99 exact", []part{a}, .99, 50},
		{"two equal parts", []part{a, a}, .95, 30},
		{"p50 of a mostly fast mix is fast", []part{fast, slow}, .5, 2 + (3-2)*(0.5/0.9-0.5)/(0.9-0.5)},
		{"p95 of the mix is in the slow tail", []part{fast, slow}, .95, 100 + 100*0.5/0.5},
		{"zero weight", []part{{}, {}}, .95, math.NaN()},
	}
	for _, tc := range tests {
		got := mixQuantile(tc.parts, tc.q)
		if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-9) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDownsampleKeepsSpikes(t *testing.T) {
	in := make([]sample, 1000)
	for i := range in {
		in[i] = sample{Sec: i, Width: 1, Reqs: 10, Fails: 1, P50: 5, P95: 9, P99: 10, Max: 12, count: 10, hasLat: true}
	}
	in[777].P99, in[777].Max, in[777].P95 = 900, 1000, 800
	in[500].hasLat, in[500].P50 = false, math.NaN()
	out := downsample(in, 100)
	if len(out) != 100 {
		t.Fatalf("%d buckets, want 100", len(out))
	}
	b := out[77]
	if b.Sec != 770 || b.Width != 10 || b.P99 != 900 || b.P95 != 800 || b.Max != 1000 || b.P50 != 5 || b.Reqs != 10 || b.Fails != 1 {
		t.Errorf("bucket with the spike = %+v, want p95 800, p99 900, max 1000, p50 5, 10 req/s, 1 fail/s", b)
	}
	if out[50].P50 != 5 || !out[50].hasLat {
		t.Errorf("a bucket with one empty second lost its latency: %+v", out[50])
	}
	if got := downsample(in[:10], 100); len(got) != 10 {
		t.Errorf("short series was merged: %d buckets", len(got))
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtMs(0.25), "250 µs"}, {fmtMs(1.234), "1.23 ms"}, {fmtMs(45.67), "45.7 ms"}, {fmtMs(250), "250 ms"},
		{fmtMs(1500), "1.5 s"}, {fmtMs(90000), "1.5 min"}, {fmtMs(math.NaN()), "–"},
		{fmtNum(950), "950"}, {fmtNum(1234), "1.2k"}, {fmtNum(45678), "46k"}, {fmtNum(2.5e6), "2.5M"}, {fmtNum(0.5), "0.5"},
		{fmtClock(65), "1:05"}, {fmtClock(3725), "1:02:05"}, {fmtBytes(1536), "1.5 kB"},
		{g(niceStep(7)), "10"}, {g(niceStep(180)), "200"}, {g(niceStep(0.22)), "0.5"}, {g(niceStep(2400)), "5000"}, {g(niceStep(1)), "1"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("case %d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func TestYScale(t *testing.T) {
	tests := []struct {
		max, top, step float64
	}{
		{33, 40, 10}, {6220, 8000, 2000}, {10, 10, 5}, {0, 1, 0.25}, {0.7, 0.8, 0.2}, {1, 1, 0.5},
	}
	for _, tc := range tests {
		c := chart{Lines: []line{{Values: []float64{math.NaN(), tc.max / 2, tc.max}}}}
		if top, step := c.yScale(); math.Abs(top-tc.top) > 1e-9 || math.Abs(step-tc.step) > 1e-9 {
			t.Errorf("max %v: axis to %v step %v, want %v step %v", tc.max, top, step, tc.top, tc.step)
		}
	}
}

func TestWarmupSpans(t *testing.T) {
	tl := make([]sample, 10)
	for i := range tl {
		tl[i] = sample{Sec: i, Width: 1, Warmup: i >= 1 && i <= 3 || i == 7}
	}
	got := warmupSpans(tl, 3*time.Second)
	want := [][2]float64{{0, 4}, {7, 8}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("spans = %v, want %v (the 3 s window widened to flagged second 3, and second 7)", got, want)
	}
	if got := warmupSpans(tl[:2], time.Minute); len(got) != 1 || got[0] != [2]float64{0, 2} {
		t.Errorf("a warm-up longer than the run spans %v, want [0 2]", got)
	}
}

func TestClipOutlier(t *testing.T) {
	p99 := line{Values: []float64{1, 2, math.NaN()}}
	tests := []struct {
		max  []float64
		clip bool
	}{{[]float64{2, 5.9, 1}, false}, {[]float64{2, 90, 1}, true}, {[]float64{math.NaN()}, false}}
	for _, tc := range tests {
		m := line{Name: "max", Values: tc.max}
		clipOutlier(&m, p99)
		if m.Clip != tc.clip {
			t.Errorf("max %v: clip = %v, want %v", tc.max, m.Clip, tc.clip)
		}
	}
	c := chart{Lines: []line{p99, {Values: []float64{90}, Clip: true}}}
	if top, _ := c.yScale(); top != 2 {
		t.Errorf("a clipped line set the axis to %v, want 2 from p99", top)
	}
	if y := c.y(90, 2); y != padT {
		t.Errorf("clipped value drawn at y=%v, want the top %v", y, float64(padT))
	}
}

func TestRateGapBeforeFirstTick(t *testing.T) {
	_, reg := syntheticRun(3, 0, -1)
	series := reg.Series()
	tl := timeline(series, pickSources(reg, series))
	for i, s := range tl {
		if !s.any || s.Reqs != 33 {
			t.Errorf("second %d: any=%v reqs=%v, want 33 requests", i, s.any, s.Reqs)
		}
	}
	if v := ifAny(sample{}, 0); !math.IsNaN(v) {
		t.Errorf("a second with nothing recorded charts as %v, want a gap", v)
	}
}

func TestReportEmptyRun(t *testing.T) {
	sum, reg := syntheticRun(0, 0, -1)
	sum.Thresholds = nil
	var b bytes.Buffer
	if err := Write(&b, sum, reg, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<header class="none">`, "no thresholds", "No time series were recorded.", "No HTTP requests.", "No checks.", "No errors.", "<title>surge report</title>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report of an empty run lacks %q", want)
		}
	}
	if strings.Contains(b.String(), "<svg") {
		t.Error("empty run drew a chart")
	}
}

// TestTimelineOfMergedPoints: a run long enough that the registry merged
// its old points into buckets charts every second still, with the same
// requests in all and the users it had.
func TestTimelineOfMergedPoints(t *testing.T) {
	defer metrics.SetRetention(60, 30)()
	const seconds = 600
	_, reg := syntheticRun(seconds, 0, -1)
	series := reg.Series()
	merged := false
	for _, s := range series {
		merged = merged || s.Points[0].Width() > 1
	}
	if !merged {
		t.Fatal("no point was merged: the test does not test merging")
	}
	tl := timeline(series, pickSources(reg, series))
	if len(tl) != seconds {
		t.Fatalf("%d seconds charted, want %d", len(tl), seconds)
	}
	var reqs float64
	for i, s := range tl {
		reqs += s.Reqs
		if !s.any || !s.hasLat || s.VUs < 1 || s.VUs > 10 {
			t.Errorf("second %d: %+v", i, s)
		}
	}
	want := float64(reg.Total(reg.Builtin.HTTPReqFailed).Count)
	if math.Abs(reqs-want) > 1e-6*want {
		t.Errorf("charted %v requests, the run made %v", reqs, want)
	}
}
