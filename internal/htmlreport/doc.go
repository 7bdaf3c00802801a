// Package htmlreport renders a finished run as one self-contained HTML file:
// the verdict and notes, charts over the whole run, the per-name table,
// checks, errors, the test's configuration and the machine it ran on.
//
// The file must open offline and be attached to a pull request, so nothing
// is fetched: the CSS and the little JavaScript (table sorting, chart hover)
// are inlined, and the charts are SVG drawn here in Go rather than by a
// charting library. The work is layered as pure functions:
//
//	registry series → timeline (one sample per second, all tag sets merged)
//	               → downsample (at most MaxPoints buckets per chart)
//	               → chart (SVG)  → page (html/template)
//
// Merging tag sets within a second needs percentiles of a union of
// distributions of which only a few quantiles are known. Each part is read
// as a piecewise-linear CDF through (min, 0), (p50, .5), (p90, .9),
// (p95, .95), (p99, .99), (max, 1), and the count-weighted mixture is
// inverted; with one tag set this returns the recorded values exactly.
// Downsampling merges adjacent seconds and keeps the worst p95, p99 and max
// of the merged seconds, so a one-second latency spike stays visible in a
// ten-hour run.
//
// Note: an inline canvas script was considered for the charts; SVG was kept
// because it prints, scales, and can be checked (and golden-tested) as text.
package htmlreport
