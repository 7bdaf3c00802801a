package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/surgeload/surge/internal/bench/series"
)

func init() {
	register(command{
		name:    "stats",
		summary: "describe numbers from files: mean, stddev, percentiles to p99.99, histogram",
		run:     runStats,
	})
}

// statsStdin is where "-" reads from; tests replace it.
var statsStdin io.Reader = os.Stdin

func runStats(_ context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("stats")
	var opts series.Options
	var format string
	var bins int
	var noHist bool
	fs.StringVar(&opts.Column, "column", "", "read CSV and take column `NAME` (header name, or 1-based index)")
	fs.StringVar(&opts.Field, "field", "", "read NDJSON and take field `NAME` (dots descend: timings.duration)")
	fs.IntVar(&opts.Warmup, "warmup", 0, "discard the first `N` values of each file")
	fs.StringVar(&format, "format", "text", "output format: text, json, csv or markdown")
	fs.IntVar(&bins, "bins", 0, "histogram bins (0: Sturges' rule)")
	fs.BoolVar(&noHist, "no-histogram", false, "leave out the histograms")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("no input: surge stats [flags] FILE… (use - for standard input)")
	}
	if opts.Column != "" && opts.Field != "" {
		return usageErrorf("--column (CSV) and --field (NDJSON) exclude each other")
	}
	if opts.Warmup < 0 || bins < 0 {
		return usageErrorf("--warmup and --bins must not be negative")
	}
	write, ok := statsWriters[format]
	if !ok {
		return usageErrorf("--format %q: want text, json, csv or markdown", format)
	}
	var all []series.Series
	var sums []series.Summary
	for _, path := range fs.Args() {
		s, bad, err := series.ReadFile(path, statsStdin, opts)
		for _, e := range bad {
			fmt.Fprintf(stderr, "surge stats: %s (skipped)\n", e)
		}
		if err != nil {
			return err
		}
		all = append(all, s)
		sums = append(sums, series.Describe(s))
	}
	if noHist {
		bins = -1
	}
	return write(stdout, sums, all, bins)
}

var statsWriters = map[string]func(io.Writer, []series.Summary, []series.Series, int) error{
	"text": series.WriteText,
	"json": func(w io.Writer, s []series.Summary, _ []series.Series, _ int) error { return series.WriteJSON(w, s) },
	"csv":  func(w io.Writer, s []series.Summary, _ []series.Series, _ int) error { return series.WriteCSV(w, s) },
	"markdown": func(w io.Writer, s []series.Summary, _ []series.Series, _ int) error {
		return series.WriteMarkdown(w, s)
	},
}
