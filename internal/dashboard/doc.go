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
