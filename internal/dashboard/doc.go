// Package dashboard serves the live web dashboard of a running load test:
// charts updated every second, Locust's statistics, failures and exceptions
// tabs, downloads of the current statistics, and steering (stop, change the
// number of users and the spawn rate, reset statistics).
//
// The work is split so that the registry is read from one goroutine only:
//
//	engine tick goroutine ──► Server.Tick ──► collector (reads the registry)
//	                                        ──► Point + Stats (plain values)
//	                                        ──► hub: stored, pushed to every
//	                                            SSE client as JSON
//	HTTP handlers ──► read the stored values, never the registry
//
// A registry's series are mutated by Tick under its lock, but callers read
// Series.Points and Series.Total without it; the engine's tick goroutine is
// the only place where that is safe. So "reset statistics" from the browser
// only raises a flag, and the next tick performs Registry.Reset.
//
// Each chart point is what happened during one tick, computed from the
// difference of the series' cumulative totals (warm-up plus measured), so a
// final short tick or two ticks within one second are neither lost nor
// double counted. Percentiles are read from the difference of the merged
// HDR histograms, never averaged across tag sets.
//
// The current user mix (users per scenario and per user class) and the
// stage boundaries come from the engine's Control, not the registry: a
// gauge per class would show up in every summary and export. A
// distributed master has no Control, so it shows only the total users and
// the stages of its --stage flags.
//
// What the page may steer depends on the run, and the state says so
// (Controls): a local run's engine Control obeys everything; a
// distributed master has no Control, only Options.Stop, which ends its run
// as Ctrl-C does (the workers stop, their results are merged), since its
// users come from the script and flags shipped to the workers and its
// statistics are merged from theirs. The page disables what the run does
// not obey and says why; the server refuses it with 409 and the same line.
//
// A distributed master's dashboard (Options.Distributed) has a Workers
// tab: one row per worker (WorkerRow: state, users, request rate of the
// last second, CPU, last heartbeat, segments), given by SetWorkers from
// the master's loop every second, pushed as a "workers" event, kept in
// the state a late page gets, and served as api/workers.json. A lost
// worker keeps its row, marked lost with when. The rows are this
// package's own type: the command converts the cluster's view, so the
// dashboard does not depend on the cluster.
//
// Profiles and SQL tables are the summary's Attachments (or sections given
// to Attach while the run goes). Their HTML carries scripts (flame graphs),
// which markup set with innerHTML would not run, so each is served as a
// page of its own and shown in a frame of the Profiles or SQL tab.
//
// After Finish the server either shuts down once open pages got the end,
// or, with Options.Linger, keeps serving the final state, the downloads
// and the HTML report (rendered by Options.Report from the registry, which
// no longer changes), refusing control actions, until the linger ends or
// Close.
//
// Assets (HTML, CSS, a small hand-written canvas chart script) are embedded
// with go:embed: the page works offline and needs no build step. Updates
// are pushed with Server-Sent Events; a client that connects late gets the
// whole history in its first event.
//
// Security: the server listens on loopback unless given a token; with a
// token every request must carry it (query parameter once, then a cookie or
// an Authorization: Bearer header). Control actions are POST only and pass
// net/http's CrossOriginProtection (Sec-Fetch-Site and Origin checks); a
// tokenless server also rejects a Host header that is not a loopback name,
// so a DNS-rebinding page cannot reach it.
package dashboard
