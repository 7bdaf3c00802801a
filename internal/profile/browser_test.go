package profile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/surgeload/surge/internal/testenv"
)

func browser(t *testing.T) context.Context { return testenv.Browser(t, 1200, 800) }

func TestFlameGraphInBrowser(t *testing.T) {
	ctx := browser(t)
	var b bytes.Buffer
	if err := WriteFlameGraph(&b, synthetic(newStacks)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flame.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS(".frame")),
	); err != nil {
		t.Fatal(err)
	}
	before := evalJS[int](t, ctx, `document.querySelectorAll('.frame').length`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(".sfg-search"), "marsh")); err != nil {
		t.Fatal(err)
	}
	matched := evalJS[int](t, ctx, `document.querySelectorAll('.frame.match').length`)
	matchText := evalJS[string](t, ctx, `(document.querySelector('.frame.match')||{}).textContent||''`)
	title := evalJS[string](t, ctx, `(document.querySelector('.frame.match')||{}).title||''`)
	matchedLabel := evalJS[string](t, ctx, `document.querySelector('.sfg-matched').textContent`)
	// Zoom: clicking main.db leaves only it and its ancestors drawn.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.frame[title^="main.db"]`))); err != nil {
		t.Fatal(err)
	}
	after := evalJS[int](t, ctx, `document.querySelectorAll('.frame').length`)
	if matched != 1 || matchText != "json.Marshal" {
		t.Fatalf("search 'marsh' highlighted %d frames (first %q), want json.Marshal", matched, matchText)
	}
	if !strings.Contains(title, "total 48 count (48.00%)") || !strings.Contains(title, "self 48 (48.00%)") {
		t.Errorf("hover text = %q, want self and total shares", title)
	}
	if !strings.Contains(matchedLabel, "48.00% of total") {
		t.Errorf("matched label = %q", matchedLabel)
	}
	if after != 4 || before <= after {
		t.Errorf("zoom into main.db drew %d frames (from %d), want 4: all, main.main, main.serve, main.db", after, before)
	}
}

func TestDiffFlameGraphColorsInBrowser(t *testing.T) {
	ctx := browser(t)
	var b bytes.Buffer
	if err := WriteDiffFlameGraph(&b, synthetic(baseStacks), synthetic(newStacks)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "diff.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS(".frame")),
	); err != nil {
		t.Fatal(err)
	}
	colors := evalJS[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('.frame')].map(f => [f.textContent, f.style.background]))`)
	if c := colors["json.Marshal"]; !strings.HasPrefix(c, "rgb(255,") {
		t.Errorf("json.Marshal (more in NEW) color %q, want red", c)
	}
	if c := colors["main.db"]; !strings.HasSuffix(c, ", 255)") {
		t.Errorf("main.db (less in NEW) color %q, want blue", c)
	}
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func TestFragmentsShareAPage(t *testing.T) {
	ctx := browser(t)
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html><html><body><h1>report</h1>")
	if err := WriteFlameGraphFragment(&b, synthetic(baseStacks), "stage-1"); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiffFlameGraphFragment(&b, synthetic(baseStacks), synthetic(newStacks), "diff-1-2"); err != nil {
		t.Fatal(err)
	}
	b.WriteString("</body></html>")
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS("#diff-1-2 .frame")),
		chromedp.SendKeys(chromedp.CSS("#diff-1-2 .sfg-search"), "db"),
	); err != nil {
		t.Fatal(err)
	}
	first := evalJS[int](t, ctx, `document.querySelectorAll('#stage-1 .frame.match').length`)
	second := evalJS[int](t, ctx, `document.querySelectorAll('#diff-1-2 .frame.match').length`)
	if first != 0 || second != 1 {
		t.Fatalf("search in the second graph matched %d frames there and %d in the first; want 1 and 0", second, first)
	}
}
