package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
	noColor := fs.Bool("no-color", false, "no colors (also NO_COLOR)")
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
	return r.Summary.WriteText(stdout, report.TextOptions{Color: isTerminal(stdout) && !*noColor && os.Getenv("NO_COLOR") == ""}) // as surge run
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
	// Every rule is checked before anything is loaded or printed, so a bad
	// rule is one line on stderr and nothing on stdout.
	rules, err := parseFailOn(failOn)
	if err != nil {
		return err
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
	for _, rule := range rules { // a request name that is not in both runs
		if _, found := rule.Violations(rows); !found {
			return usageErrorf("--fail-on %q: no such metric and statistic in the comparison (the request name must be in both runs)", rule.Source)
		}
	}
	if err := result.WriteTable(stdout, rows, filepath.Base(fs.Arg(0)), filepath.Base(fs.Arg(1))); err != nil {
		return err
	}
	var failed []string
	for _, rule := range rules {
		bad, _ := rule.Violations(rows)
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

// parseFailOn parses the --fail-on rules and checks that each names a row
// the comparison can have: one of the whole-run rows, or a statistic kept
// per request name. Which names the runs hold is known only once loaded.
func parseFailOn(list []string) ([]result.FailOn, error) {
	var rules []result.FailOn
	var names []report.RequestRow
	for _, s := range list {
		r, err := result.ParseFailOn(s)
		if err != nil {
			return nil, usageErrorf("%w", err)
		}
		if n, ok := strings.CutPrefix(r.Metric, "http_req_duration{name:"); ok && strings.HasSuffix(n, "}") {
			names = append(names, report.RequestRow{Name: strings.TrimSuffix(n, "}")})
		}
		rules = append(rules, r)
	}
	// the rows of two runs that made a request of every name the rules give
	probe := &result.Result{Summary: &report.Summary{Requests: names}}
	rows := result.Compare(probe, probe)
	for _, r := range rules {
		if _, found := r.Violations(rows); !found {
			return nil, usageErrorf("--fail-on %q: no such metric and statistic in the comparison (%s)", r.Source, failOnChoices(rows))
		}
	}
	return rules, nil
}

// failOnChoices lists the whole-run rows a --fail-on rule can name.
func failOnChoices(rows []result.Row) string {
	var out []string
	for _, r := range rows {
		if !strings.Contains(r.Metric, "{") {
			out = append(out, r.Metric+":"+r.Stat)
		}
	}
	return "want one of " + strings.Join(out, ", ") + ", or http_req_duration{name:NAME}:p(95)"
}
