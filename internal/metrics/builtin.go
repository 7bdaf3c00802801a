package metrics

// Builtin holds k6's built-in metrics (same names, types and units), so that
// thresholds, summaries and dashboards written for k6 read surge's output.
type Builtin struct {
	VUs, VUsMax                                   *Metric
	Iterations, IterationDuration, Dropped        *Metric
	IterationLag                                  *Metric // surge: due time to actual start, arrival-rate executors
	DataSent, DataReceived                        *Metric
	Checks                                        *Metric
	HTTPReqs, HTTPReqFailed, HTTPReqDuration      *Metric
	HTTPReqBlocked, HTTPReqConnecting, HTTPReqTLS *Metric
	HTTPReqSending, HTTPReqWaiting, HTTPReqRecv   *Metric
}

func newBuiltin(r *Registry) *Builtin {
	return &Builtin{
		VUs:               r.MustNew("vus", Gauge, Default),
		VUsMax:            r.MustNew("vus_max", Gauge, Default),
		Iterations:        r.MustNew("iterations", Counter, Default),
		IterationDuration: r.MustNew("iteration_duration", Trend, Time),
		Dropped:           r.MustNew("dropped_iterations", Counter, Default),
		IterationLag:      r.MustNew("iteration_start_lag", Trend, Time),
		DataSent:          r.MustNew("data_sent", Counter, Data),
		DataReceived:      r.MustNew("data_received", Counter, Data),
		Checks:            r.MustNew("checks", Rate, Default),
		HTTPReqs:          r.MustNew("http_reqs", Counter, Default),
		HTTPReqFailed:     r.MustNew("http_req_failed", Rate, Default),
		HTTPReqDuration:   r.MustNew("http_req_duration", Trend, Time),
		HTTPReqBlocked:    r.MustNew("http_req_blocked", Trend, Time),
		HTTPReqConnecting: r.MustNew("http_req_connecting", Trend, Time),
		HTTPReqTLS:        r.MustNew("http_req_tls_handshaking", Trend, Time),
		HTTPReqSending:    r.MustNew("http_req_sending", Trend, Time),
		HTTPReqWaiting:    r.MustNew("http_req_waiting", Trend, Time),
		HTTPReqRecv:       r.MustNew("http_req_receiving", Trend, Time),
	}
}
