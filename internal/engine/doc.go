// Package engine runs a load test: it turns scenarios and their executors
// into virtual users on goroutines, schedules their iterations, ticks the
// metrics registry once a second and evaluates thresholds while the test
// runs.
//
// Executors carry k6's names and parameters (constant-vus, ramping-vus,
// per-vu-iterations, shared-iterations, constant-arrival-rate,
// ramping-arrival-rate) plus Locust's load shape (a function of run time that
// returns target users and spawn rate). Schedules are pure functions — a
// Ramp says how many VUs should be active at time t, a Pacer when the i-th
// arrival is due — so they are table-tested without clocks; goroutines and
// timers live only in the executors' run loops.
//
// Open model, measured honestly: arrival-rate VUs claim iteration numbers
// from an atomic counter, compute the iteration's due time from the Pacer
// and start it then, or at once if it is already late. The iteration's
// duration and the latency of its first request count from the due time,
// not from when a VU became free, and the lag is recorded as
// iteration_start_lag. When every VU is busy the schedule queues instead of
// silently skipping arrivals; more VUs are started up to maxVUs, and
// arrivals that were due before the end but never started are counted as
// dropped_iterations. No channel send happens per iteration.
package engine
