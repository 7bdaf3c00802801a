// Package cluster runs one load test on many machines: a master that ships
// the test, splits the work and merges the results, and workers that
// generate the load.
//
// The transport is one bidirectional gRPC stream per worker (the service is
// written by hand, with a JSON codec, so no generated stubs are needed). A
// worker says hello with the shared token and its version; a mismatch is
// refused with a clear status on both sides. The master then sends the test
// bundle (the run flags, and for scripts the script's directory) with its
// SHA-256 digest; the worker writes it to a temporary directory, builds the
// test with the same loader as `surge run`, and reports the digest it
// computed, which the master checks.
//
// Work is divided like k6's execution segments: a Segment is a rational
// interval [Lo/Den, Hi/Den) of the whole test, and any quantity X (VUs,
// iterations, thousandths of an arrival per time unit) is divided as
// floor(Hi·X/Den) − floor(Lo·X/Den). The parts of any partition of [0, 1)
// telescope to exactly X, for any number of workers, and segments nest, so
// a lost worker's segment can be split again among the survivors.
//
// A script's setup() runs once, on the master, when the expected workers
// are ready (MasterConfig.Setup; the master keeps its heartbeats going
// while it runs); its result travels as JSON with every assignment, and
// each worker hands it to its test (WorkerConfig.SetupData) instead of
// running setup() itself. The bundle's digest covers the test, not this
// data. teardown(data) runs once on the master after the workers finished
// or were stopped (MasterConfig.Teardown); a setup() that fails ends the
// run before the start and the workers are told to exit.
//
// Workers run engine.Run on a registry with deltas enabled and send, every
// second, what each tick folded: counts, sums and whole HDR histograms in a
// compact sparse binary form, never percentiles. The master sums the deltas
// of all workers per series (histogram counts add exactly) and merges one
// delta per series per second with Registry.MergeDelta, so its registry is
// what one machine would have recorded, and thresholds, the summary and the
// exports run on it unchanged.
//
// MasterConfig.OnWorkers gets the per-worker view (state, current users,
// requests per second, CPU, last heartbeat, segments) from the master's
// loop every second, for the live dashboard; the same view ends up in the
// Outcome. A worker's rate is that of its runs' last engine ticks, each
// over the time since the run's previous tick: the master's second and a
// worker's ticks are not in phase, so counting what arrived within the
// master's second would show 0 or twice the rate by chance.
//
// Faults: both sides send a message at least every 500 ms. A worker silent
// for 3 s (or whose stream breaks) is lost; by default its segment, shifted
// to the remaining time, is split among the survivors (idle spare workers
// first). A worker that hears nothing from its master for 5 s stops its load
// and exits, so a dead master leaves no orphan load.
package cluster
