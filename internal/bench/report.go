package bench

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/surgeload/surge/internal/bench/stats"
)

// Warnings returns what a user should know about a command's runs:
// outliers, a slow first run, failures that were ignored, runs too short
// to time well.
func Warnings(r CommandResult) []string {
	var w []string
	wall := r.Wall()
	if n := r.Failed(); n > 0 {
		w = append(w, fmt.Sprintf("ignoring non-zero exit codes in %d of %d runs (first: %d)", n, len(r.Runs), firstFailure(r)))
	}
	o := stats.FindOutliers(wall)
	if o.FirstSlowest {
		w = append(w, "the first run was the slowest, far beyond the rest: caches? Try --warmup or a --prepare that clears them")
	}
	if len(o.Indices) > 0 {
		w = append(w, fmt.Sprintf("%d statistical outlier(s) in %d runs (modified z-score > %.1f): %d slow, %d fast; consider re-running on a quiet machine",
			len(o.Indices), len(wall), stats.OutlierThreshold, o.High, o.Low))
	}
	if d := stats.Describe(wall); d.Count > 0 && d.Mean < 0.005 {
		w = append(w, "runs took less than 5 ms; process start-up dominates and results may be inaccurate")
	}
	return w
}

func firstFailure(r CommandResult) int {
	for _, x := range r.Runs {
		if x.ExitCode != 0 {
			return x.ExitCode
		}
	}
	return 0
}

// WriteCommands prints each command's results as hyperfine does: mean ± σ
// with user and system time, range and run count, median and peak memory,
// then warnings.
func WriteCommands(w io.Writer, results []CommandResult) error {
	for i, r := range results {
		d := r.Describe()
		u := timeUnit(d.Mean)
		fmt.Fprintf(w, "Benchmark %d: %s\n", i+1, r.Command.Name)
		fmt.Fprintf(w, "  Time (mean ± σ):    %s ± %s    [User: %s, System: %s]\n",
			u.format(d.Mean), u.format(d.Stddev), fmtSeconds(stats.Mean(r.User())), fmtSeconds(stats.Mean(r.Sys())))
		fmt.Fprintf(w, "  Range (min … max):  %s … %s    %d runs\n", u.format(d.Min), u.format(d.Max), d.Count)
		mem := "n/a"
		if p := r.PeakRSS(); p > 0 {
			mem = fmtBytes(float64(p))
			if r.RSSFloor > 0 && p <= r.RSSFloor {
				mem = "≤ " + mem + " (surge's own floor)"
			}
		}
		fmt.Fprintf(w, "  Median:             %s    Peak memory: %s\n", u.format(d.Median), mem)
		for _, warn := range Warnings(r) {
			fmt.Fprintf(w, "  Warning: %s\n", warn)
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}

// Relative is a command's speed relative to the fastest one.
type Relative struct {
	Result CommandResult
	// Ratio is this command's median wall time over the fastest's, with
	// its uncertainty (see stats.MedianRatio).
	Ratio stats.Ratio
	// Cmp compares the fastest (old) with this command (new) by the U
	// test on wall times.
	Cmp stats.Comparison
}

// Relatives ranks results against the fastest by median wall time. The
// fastest comes first and is compared with itself.
func Relatives(results []CommandResult, opts CompareOptions) []Relative {
	opts = opts.withDefaults()
	if len(results) == 0 {
		return nil
	}
	fast := 0
	for i, r := range results {
		if r.Describe().Median < results[fast].Describe().Median {
			fast = i
		}
	}
	out := []Relative{{Result: results[fast], Ratio: stats.Ratio{Value: 1}}}
	base := results[fast]
	for i, r := range results {
		if i == fast {
			continue
		}
		out = append(out, Relative{
			Result: r,
			Ratio:  stats.MedianRatio(r.Wall(), base.Wall()),
			Cmp:    stats.Compare(base.Wall(), r.Wall(), opts.Alpha, opts.Confidence),
		})
	}
	return out
}

// WriteSummary prints how much faster the fastest command ran than each
// other one, with the ratio's uncertainty and the U test's verdict: "~"
// when the difference is not significant.
func WriteSummary(w io.Writer, rel []Relative) error {
	if len(rel) < 2 {
		return nil
	}
	fmt.Fprintf(w, "Summary\n  %s ran\n", quote(rel[0].Result.Command.Name))
	for _, r := range rel[1:] {
		if r.Cmp.Significant {
			fmt.Fprintf(w, "    %6.2f ± %.2f times faster than %s  (%s)\n", r.Ratio.Value, r.Ratio.Stddev, quote(r.Result.Command.Name), r.Cmp.Test.String())
		} else {
			fmt.Fprintf(w, "    ~ no significant difference from %s  (%.2f ± %.2f, %s)\n", quote(r.Result.Command.Name), r.Ratio.Value, r.Ratio.Stddev, r.Cmp.Test.String())
		}
		for _, e := range r.Cmp.Test.Warnings {
			fmt.Fprintf(w, "      Warning: %v\n", e)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func quote(s string) string {
	if strings.ContainsAny(s, " \t'") {
		return "'" + s + "'"
	}
	return s
}

type unit struct {
	name  string
	scale float64
}

func timeUnit(sec float64) unit {
	switch a := math.Abs(sec); {
	case a >= 1:
		return unit{"s", 1}
	case a >= 1e-3:
		return unit{"ms", 1e3}
	default:
		return unit{"µs", 1e6}
	}
}

func (u unit) format(sec float64) string {
	return fmt.Sprintf("%6.1f %s", sec*u.scale, u.name)
}

func fmtSeconds(sec float64) string {
	return strings.TrimSpace(timeUnit(sec).format(sec))
}

func fmtBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
