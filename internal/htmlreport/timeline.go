package htmlreport

import (
	"math"
	"sort"

	"github.com/surgeload/surge/internal/metrics"
)

// sample is one bucket of the run: a second, or several merged seconds.
// Rates are per second; NaN latencies mean nothing was measured.
type sample struct {
	Sec, Width          int // first second and number of seconds covered
	Reqs, Fails         float64
	P50, P95, P99, Max  float64
	VUs                 float64
	count               int64 // latency samples, weight for merging p50
	hasLat, hasVUs, any bool
	Warmup              bool
}

// sources names the metrics a timeline is drawn from, so a run without
// HTTP requests charts its iterations instead.
type sources struct {
	Unit              string // "requests" or "iterations"
	Rate, Latency, VU *metrics.Metric
	rateIsRate        bool // Rate metric counts failures (http_req_failed)
}

func pickSources(reg *metrics.Registry, series []*metrics.Series) sources {
	b := reg.Builtin
	has := map[*metrics.Metric]bool{}
	for _, s := range series {
		if len(s.Points) > 0 {
			has[s.Metric] = true
		}
	}
	if has[b.HTTPReqFailed] || has[b.HTTPReqDuration] {
		return sources{Unit: "requests", Rate: b.HTTPReqFailed, Latency: b.HTTPReqDuration, VU: b.VUs, rateIsRate: true}
	}
	return sources{Unit: "iterations", Rate: b.Iterations, Latency: b.IterationDuration, VU: b.VUs}
}

// part is one tag set's share of a second of a trend.
type part struct {
	count                        int64
	min, p50, p90, p95, p99, max float64
}

// timeline merges every tag set of the chosen metrics into one sample per
// second, from second 0 to the last second seen. A point that merges older
// seconds (metrics.RecentSeconds) is spread evenly over the seconds it
// covers: its rates and user count hold for each, its percentiles too.
func timeline(series []*metrics.Series, src sources) []sample {
	last := -1
	for _, s := range series {
		if n := len(s.Points); n > 0 && isSource(s.Metric, src) {
			p := s.Points[n-1]
			last = max(last, p.Second+p.Width()-1)
		}
	}
	if last < 0 {
		return nil
	}
	out := make([]sample, last+1)
	parts := make([][]part, last+1)
	for i := range out {
		out[i] = sample{Sec: i, Width: 1}
	}
	for _, s := range series {
		if !isSource(s.Metric, src) {
			continue
		}
		for _, p := range s.Points {
			w := p.Width()
			share := 1 / float64(w)
			for sec := max(p.Second, 0); sec < p.Second+w && sec <= last; sec++ {
				o := &out[sec]
				o.any = true
				o.Warmup = o.Warmup || p.Warmup
				switch s.Metric {
				case src.Rate:
					if src.rateIsRate {
						o.Reqs += float64(p.Count) * share
						o.Fails += float64(p.Nonzero) * share
					} else {
						o.Reqs += p.Sum * share
					}
				case src.Latency:
					n := max(p.Count/int64(w), 1)
					parts[sec] = append(parts[sec], part{n, p.Min, p.P50, p.P90, p.P95, p.P99, p.Max})
				case src.VU:
					o.VUs += p.Max
					o.hasVUs = true
				}
			}
		}
	}
	for i := range out {
		setLatency(&out[i], parts[i])
	}
	return out
}

func isSource(m *metrics.Metric, src sources) bool {
	return m == src.Rate || m == src.Latency || m == src.VU
}

func setLatency(o *sample, ps []part) {
	o.P50, o.P95, o.P99, o.Max = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(ps) == 0 {
		return
	}
	o.hasLat = true
	o.P50, o.P95, o.P99 = mixQuantile(ps, 0.50), mixQuantile(ps, 0.95), mixQuantile(ps, 0.99)
	o.Max = ps[0].max
	for _, p := range ps {
		o.Max = max(o.Max, p.max)
		o.count += p.count
	}
}

// knots is a part's CDF as (value, probability) pairs.
func (p part) knots() [6][2]float64 {
	return [6][2]float64{{p.min, 0}, {p.p50, .5}, {p.p90, .9}, {p.p95, .95}, {p.p99, .99}, {p.max, 1}}
}

// cdf is the piecewise-linear CDF of p at x.
func (p part) cdf(x float64) float64 {
	k := p.knots()
	if x < k[0][0] {
		return 0
	}
	for i := 1; i < len(k); i++ {
		if x < k[i][0] {
			lo, hi := k[i-1], k[i]
			return lo[1] + (hi[1]-lo[1])*(x-lo[0])/(hi[0]-lo[0])
		}
	}
	return 1
}

// mixQuantile is the q-quantile of the count-weighted mixture of parts. A
// single part returns its recorded percentile exactly.
func mixQuantile(ps []part, q float64) float64 {
	if len(ps) == 1 {
		switch q {
		case .5:
			return ps[0].p50
		case .95:
			return ps[0].p95
		case .99:
			return ps[0].p99
		}
	}
	var total float64
	var xs []float64
	for _, p := range ps {
		total += float64(p.count)
		for _, k := range p.knots() {
			xs = append(xs, k[0])
		}
	}
	if total == 0 {
		return math.NaN()
	}
	F := func(x float64) float64 {
		var f float64
		for _, p := range ps {
			f += float64(p.count) * p.cdf(x)
		}
		return f / total
	}
	sort.Float64s(xs)
	// Find the first knot where F reaches q, then interpolate within the
	// segment before it: F is linear between consecutive knots.
	i := sort.Search(len(xs), func(i int) bool { return F(xs[i]) >= q })
	if i == 0 {
		return xs[0]
	}
	if i == len(xs) {
		return xs[len(xs)-1]
	}
	lo, hi := xs[i-1], xs[i]
	flo, fhi := F(lo), F(hi)
	if fhi == flo {
		return hi
	}
	return lo + (hi-lo)*(q-flo)/(fhi-flo)
}

// downsample merges adjacent samples so at most maxPoints remain. Rates
// become the mean over the merged seconds; p95, p99, max and VUs keep the
// worst second; p50 is the count-weighted mean.
func downsample(in []sample, maxPoints int) []sample {
	if maxPoints <= 0 || len(in) <= maxPoints {
		return in
	}
	return mergeEvery(in, (len(in)+maxPoints-1)/maxPoints)
}

// mergeEvery merges each run of w adjacent samples into one.
func mergeEvery(in []sample, w int) []sample {
	if w <= 1 {
		return in
	}
	out := make([]sample, 0, (len(in)+w-1)/w)
	for i := 0; i < len(in); i += w {
		out = append(out, merge(in[i:min(i+w, len(in))]))
	}
	return out
}

func merge(b []sample) sample {
	m := sample{Sec: b[0].Sec, P50: math.NaN(), P95: math.NaN(), P99: math.NaN(), Max: math.NaN()}
	var p50w float64
	for _, s := range b {
		m.Width += s.Width
		m.Reqs += s.Reqs * float64(s.Width)
		m.Fails += s.Fails * float64(s.Width)
		m.any = m.any || s.any
		m.Warmup = m.Warmup || s.Warmup
		if s.hasVUs {
			m.VUs = max(m.VUs, s.VUs)
			m.hasVUs = true
		}
		if !s.hasLat {
			continue
		}
		if !m.hasLat {
			m.P95, m.P99, m.Max, m.hasLat = s.P95, s.P99, s.Max, true
		}
		m.P95, m.P99, m.Max = max(m.P95, s.P95), max(m.P99, s.P99), max(m.Max, s.Max)
		wt := float64(max(s.count, 1))
		p50w += s.P50 * wt
		m.count += int64(wt)
	}
	m.Reqs /= float64(m.Width)
	m.Fails /= float64(m.Width)
	if m.hasLat {
		m.P50 = p50w / float64(m.count)
	}
	return m
}
