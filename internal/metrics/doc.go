// Package metrics is surge's metrics registry: counters, gauges, rates and
// trends with k6's names and semantics, tagged series, mergeable histograms,
// a one-second time series, and thresholds.
//
// The hot path is built so that recording a sample costs a mutex that is
// almost never contended and a few additions: each virtual user records into
// one of a small number of Shards (chosen by VU id), and a Sink, the
// accumulator of one (metric, tag set) series inside a shard, is created once
// and reset in place, so a VU may cache Sink pointers and record without a map
// lookup. Once per tick the Registry locks each shard in turn, folds its sinks
// into the run totals and into that second's Point, and resets them. Nothing
// crosses a channel per sample.
//
// Trends keep an HDR histogram (≤1% relative error) instead of samples, so
// memory does not grow with the length of a run, percentiles of any tag subset
// are exact merges, and workers of a distributed run can ship histograms that
// merge without loss. Count, sum, min and max are kept exactly beside the
// histogram.
//
// Note: one shard per VU was tried on paper and rejected: a histogram is tens
// of kilobytes, and 100,000 sleeping VUs would need gigabytes.
package metrics
