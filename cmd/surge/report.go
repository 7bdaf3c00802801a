package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/surgeload/surge/internal/htmlreport"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

func init() {
	writeHTMLReport = func(path string, sum *report.Summary, reg *metrics.Registry, f *runFlags) error {
		return writeReportFile(path, sum, reg, reportOptions(sum, f))
	}
}

// writeReportFile writes the HTML report next to path (creating its
// directory) and renames it into place, so a reader never sees half a report and a failed run leaves the
// previous report intact.
func writeReportFile(path string, sum *report.Summary, reg *metrics.Registry, o htmlreport.Options) error {
	// A missing directory is created, as --save does.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".surge-report-*.html")
	if err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := htmlreport.Write(tmp, sum, reg, o); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// reportOptions is what the report shows besides the results: the test's
// configuration (from the flags when the caller has them, else what the
// summary records) and this machine.
func reportOptions(sum *report.Summary, f *runFlags) htmlreport.Options {
	cfg := map[string]string{}
	if f != nil {
		cfg = flagConfig(f)
	}
	if len(sum.Thresholds) > 0 && cfg["threshold"] == "" {
		var ths []string
		for _, t := range sum.Thresholds {
			ths = append(ths, t.Metric+": "+t.Source)
		}
		cfg["threshold"] = strings.Join(ths, "; ")
	}
	if sum.Warmup > 0 {
		cfg["warmup"] = sum.Warmup.String()
	}
	cfg["summary-trend-stats"] = strings.Join(sum.TrendStats, ",")
	o := htmlreport.Options{Config: cfg, Env: htmlreport.CurrentEnvironment(Version)}
	for _, a := range sum.Attachments { // profiles and SQL recorded during the run
		if a.HTML != "" {
			o.Sections = append(o.Sections, htmlreport.Section{Title: a.Title, HTML: a.HTML})
		}
	}
	return o
}

// flagConfig lists the flags of a run that were given, under their long
// names. Header values and bodies are left out (they often hold tokens), and
// so is the password of a URL.
func flagConfig(f *runFlags) map[string]string {
	c := map[string]string{}
	set := func(k, v string) {
		if v != "" && v != "0" && v != "0s" {
			c[k] = v
		}
	}
	set("script", f.script)
	set("url", redactURL(f.url))
	if f.url != "" {
		set("method", f.method)
	}
	set("name", f.name)
	var hdrs []string
	for _, h := range f.headers {
		k, _, _ := strings.Cut(h, ":")
		hdrs = append(hdrs, strings.TrimSpace(k)+": …")
	}
	set("header", strings.Join(hdrs, "; "))
	if f.body != "" {
		set("body", fmt.Sprintf("(%d bytes)", len(f.body)))
	}
	set("body-file", f.bodyFile)
	set("vus", strconv.Itoa(f.vus))
	set("duration", f.duration.String())
	set("iterations", strconv.Itoa(f.iterations))
	set("stage", strings.Join(f.stages, ", "))
	if f.rate > 0 {
		set("rate", strconv.FormatFloat(f.rate, 'g', -1, 64)+" per "+f.timeUnit.String())
	}
	set("max-vus", strconv.Itoa(f.maxVUs))
	set("threshold", strings.Join(f.thresholds, "; "))
	set("tag", strings.Join(f.tags, ", "))
	set("warmup", f.warmup.String())
	set("timeout", f.timeout.String())
	set("config", f.config)
	return c
}

// redactURL hides the password of a URL's user info.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
