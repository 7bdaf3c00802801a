package htmlreport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgeload/surge/internal/testenv"
)

func browser(t *testing.T) context.Context { return testenv.Browser(t, 1280, 900) }

func artifactDir(t *testing.T) string { return testenv.ArtifactDir(t) }

func TestReportInBrowser(t *testing.T) {
	ctx := browser(t)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(render(t, 40, 5*time.Second, 25, fixedOptions())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("svg.chart"))); err != nil {
		t.Fatal(err)
	}
	// Every chart line has drawn segments, with a visible width.
	lines := evalJS[[]float64](t, ctx, `[...document.querySelectorAll('svg.chart path.line')].map(p => p.getTotalLength())`)
	if len(lines) != 10 {
		t.Fatalf("%d chart lines drawn, want 10 (7 and one p95 line for each of 3 names)", len(lines))
	}
	for i, l := range lines {
		if l < 100 {
			t.Errorf("chart line %d is %.0f units long, want a drawn line", i, l)
		}
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('svg.chart circle.pt').length`); n < 7*40 {
		t.Errorf("%d point markers, want one per second and line", n)
	}
	if w := evalJS[float64](t, ctx, `document.querySelector('#chart-latency rect.warmup').getBBox().width`); w < 50 {
		t.Errorf("warm-up band is %.0f wide, want 5 s of 40 (≈110 units)", w)
	}
	// Sorting: the p95 column (descending on first click) puts the slowest name first.
	names := `[...document.querySelectorAll('#requests-table tbody td.name')].map(td => td.textContent)`
	before := evalJS[[]string](t, ctx, names)
	p95 := chromedp.CSS("#requests-table th:nth-child(10)")
	if h := evalJS[string](t, ctx, `document.querySelector('#requests-table th:nth-child(10)').textContent`); h != "p95" {
		t.Fatalf("column 10 is %q, want p95", h)
	}
	clickHeader := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(p95)); err != nil {
			t.Fatal(err)
		}
	}
	clickHeader()
	after := evalJS[[]string](t, ctx, names)
	if strings.Join(before, ",") != "/api/orders,/api/users,/static/app.js" {
		t.Errorf("initial order %v, want by name", before)
	}
	if strings.Join(after, ",") != "/api/orders,/api/users,/static/app.js" {
		t.Errorf("by p95 descending: %v", after)
	}
	clickHeader()
	if got := evalJS[[]string](t, ctx, names); strings.Join(got, ",") != "/static/app.js,/api/users,/api/orders" {
		t.Errorf("second click should sort ascending: %v", got)
	}
	// Hover shows the values of the nearest second.
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.ID("chart-latency"))); err != nil {
		t.Fatal(err)
	}
	tip := evalJS[string](t, ctx, `(() => { const s = document.getElementById('chart-latency'), r = s.getBoundingClientRect();
		s.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.5, clientY: r.top + r.height / 2, bubbles: true}));
		return document.getElementById('tip').textContent })()`)
	if !strings.Contains(tip, "p95:") || !strings.Contains(tip, " ms") {
		t.Errorf("hover tooltip = %q, want p95 in ms", tip)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "htmlreport.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
