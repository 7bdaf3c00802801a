// Package bench runs benchmarks and compares them with statistics that can
// be trusted: external commands timed as hyperfine times them, Go benchmarks
// run through `go test -bench` and parsed with golang.org/x/perf/benchfmt,
// saved baselines, and benchstat-grade comparison tables.
//
// The layers stack as in x/perf: stats (pure statistics) → Set (named
// samples per unit, from any source) → Compare (tables of comparisons) →
// renderers (text, CSV, JSON, Markdown, HTML). The runner and the go test
// driver are the only parts with processes and clocks; everything they
// produce is a plain value, so the rest is tested with tables and golden
// files.
//
// Commands are run in interleaved rounds rather than all of A then all of
// B, so that slow drift of a shared machine (another build, thermal
// throttling) spreads over both samples instead of biasing one; the U test
// assumes exchangeable samples and drift breaks that. Rounds alternate
// direction (A B, B A, A B, …) so that no command always goes first.
//
// As hyperfine does, the shell's own start-up time (the median of timed
// runs of `sh -c ”`) is subtracted from every run; with -N there is no
// shell and nothing is subtracted, so the process start-up of the command
// itself (about 1.5 ms on a small VM) stays in its time.
package bench
