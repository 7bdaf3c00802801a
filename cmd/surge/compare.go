package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
)

func init() {
	register(command{name: "report", summary: "render a saved run (text, k6 JSON, HTML)", run: reportCmd})
	register(command{name: "compare", summary: "compare two saved runs with statistics; --fail-on for CI", run: compareCmd})
}

func reportCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("report")
	html := fs.String("html", "", "write the HTML report of the saved run to this file")
	export := fs.String("summary-export", "", "write the k6-compatible JSON summary to this file")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one saved result: surge report .surge/runs/RUN.json.gz")
	}
	r, err := result.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	if *export != "" {
		if err := writeTo(*export, r.Summary.WriteK6JSON); err != nil {
			return err
		}
	}
	if *html != "" {
		if writeHTMLReport == nil {
			return fmt.Errorf("--html: this build has no HTML report")
		}
		reg, err := r.Registry()
		if err != nil {
			return err
		}
		if err := writeHTMLReport(*html, r.Summary, reg, nil); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	}
	return r.Summary.WriteText(stdout, report.TextOptions{Color: isTerminal(stdout) && os.Getenv("NO_COLOR") == ""})
}

func writeTo(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func compareCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("compare")
	var failOn listFlag
	fs.Var(&failOn, "fail-on", "exit 1 when a statistic changed significantly beyond a limit: 'http_req_duration:p(95)>+10%' (repeatable)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want two saved results: surge compare BASE NEW")
	}
	var rules []result.FailOn
	for _, s := range failOn {
		r, err := result.ParseFailOn(s)
		if err != nil {
			return usageErrorf("%w", err)
		}
		rules = append(rules, r)
	}
	base, err := result.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	next, err := result.Load(fs.Arg(1))
	if err != nil {
		return err
	}
	rows := result.Compare(base, next)
	if err := result.WriteTable(stdout, rows, filepath.Base(fs.Arg(0)), filepath.Base(fs.Arg(1))); err != nil {
		return err
	}
	var failed []string
	for _, rule := range rules {
		bad, found := rule.Violations(rows)
		if !found {
			return usageErrorf("--fail-on %q: no such metric and statistic in the comparison", rule.Source)
		}
		for _, b := range bad {
			failed = append(failed, fmt.Sprintf("%s %s changed %+.1f%% (limit %s)", b.Metric, b.Stat, 100*b.Change, rule.Source))
		}
	}
	if len(failed) > 0 {
		for _, f := range failed {
			fmt.Fprintln(stdout, "✗ regression:", f)
		}
		return &silentError{code: ExitError}
	}
	return nil
}
