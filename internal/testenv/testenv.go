// Package testenv gives tests the real services test.sh provides — a
// PostgreSQL server and a headless Chromium — with one rule everywhere:
// where the service is missing, a test skips with the reason, except in CI
// (CI=true), where test.sh must have provided it and its absence fails.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// PostgresDSN returns the DSN of test.sh's PostgreSQL (SURGE_TEST_PG_DSN).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SURGE_TEST_PG_DSN")
	if dsn == "" {
		missing(t, "SURGE_TEST_PG_DSN is not set (./test.sh starts a PostgreSQL and sets it)")
	}
	return dsn
}

// ChromiumPath returns the path of Chromium.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	missing(t, "chromium is not installed (test.sh installs it: apt-get install -y chromium)")
	return ""
}

// Browser starts a headless Chromium with the flags this machine needs (no
// sandbox as root; no background networking, which the closed network
// refuses) and returns a chromedp context that ends with the test.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// ArtifactDir is where a test saves screenshots: $SURGE_ARTIFACTS when
// set, else a temporary directory.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SURGE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Command returns the path of a program the tests need (test.sh installs
// it), or skips (fails under CI) without it.
func Command(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, fmt.Sprintf("no %s on PATH (apt-get install %s; test.sh does)", name, pkg))
	}
	return p
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip("skipping: " + why)
}
