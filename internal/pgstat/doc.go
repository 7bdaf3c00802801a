// Package pgstat reads PostgreSQL's own performance records — EXPLAIN
// (ANALYZE, BUFFERS, FORMAT JSON) plans and pg_stat_statements — and turns
// them into what a plan reader looks for.
//
// The package is layered like a pipeline, each layer usable alone:
//
//   - parse.go turns a JSON plan (from the server, or pasted by a user) into
//     a tree of Nodes. It never talks to a server.
//   - selftime.go is the pure core: per-node inclusive and exclusive
//     (self) time, misestimate factors and exclusive buffers.
//   - findings.go flags slow nodes, misestimates, filtering sequential
//     scans, sorts and hashes that spill to disk and heap fetches.
//   - text.go, json.go and html.go render an analyzed Plan.
//   - explain.go and statements.go are the thin shells that talk to a
//     server with pgx; errors.go turns server errors into one clear line.
//   - statements.go also holds the pure part of pg_stat_statements: Diff of
//     two snapshots and Sort; top.go renders the result for the terminal
//     and the report.
//
// Self time follows the rules of pev2 (explain.dalibo.com), so the numbers
// match what users see there:
//
//   - PostgreSQL reports a node's times per loop, so inclusive time is
//     Actual Total Time × Actual Loops.
//   - Under a Gather or Gather Merge the loops are spread over the leader
//     and the workers running at the same time, so the product is divided
//     by the number of processes (Workers Launched + 1). pev2 divides by
//     Workers Planned + 1; Launched is what really ran, and equals Planned
//     unless the server was short of workers.
//   - Exclusive time is inclusive time minus the inclusive time of the
//     children, clamped at zero (rounding in the server's output can make it
//     slightly negative).
//   - SubPlans are evaluated by the node they hang from, so they are
//     subtracted like any child.
//   - A CTE is an InitPlan that runs lazily, inside the CTE Scans that read
//     it: its time is subtracted from those scans (in plan order, each at
//     most down to zero), not from the node it is attached to.
//   - Any other InitPlan runs once, inside the first node that evaluates its
//     parameter: its time is subtracted from the first node of the subtree
//     whose conditions name the parameter, or else from the node it is
//     attached to. pev2 subtracts InitPlans only under a Result node, which
//     counts the InitPlan twice when a scan's filter uses it.
//
// Percentages are of the Execution Time the server reported, which is what
// the user waited for; time spent outside plan nodes (JIT compilation in
// workers, triggers, executor start-up) therefore shows as the gap between
// the nodes' sum and 100%.
package pgstat
