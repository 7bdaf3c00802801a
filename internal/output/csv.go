package output

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// CSV writes Locust's two files: PREFIX_stats.csv, one row per request name
// plus "Aggregated", and PREFIX_stats_history.csv, one aggregated row per
// second, the last (partial) one included, as Locust writes one for every
// interval, the final one included. Both have exactly Locust's (2.x)
// columns, so that what reads Locust's CSV reads surge's.
type CSV struct {
	prefix string
	hf     *os.File
	hw     *csv.Writer
	last   int
	reg    *metrics.Registry // from Tick, for the last rows at Close
	// the running totals of the rows written: requests, failures and bytes
	// received up to the end of the last row's second, warm-up excluded
	// (as in the totals)
	reqs, fails int64
	bytes       float64
}

// locustPercentiles are Locust's PERCENTILES_TO_REPORT, and
// percentileColumns their columns' names, as Locust writes them.
var (
	locustPercentiles = []float64{50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100}
	percentileColumns = []string{"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"}
)

// na is what Locust writes for a value it does not have.
const na = "N/A"

// statsHeader and historyHeader are Locust's StatsCSV.requests_csv_columns
// and StatsCSVFileWriter.stats_history_csv_columns.
var (
	statsHeader = append([]string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
		"Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
		"Requests/s", "Failures/s"}, percentileColumns...)
	historyHeader = append(append([]string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"},
		percentileColumns...),
		"Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
		"Total Min Response Time", "Total Max Response Time", "Total Average Content Size")
)

// NewCSV creates PREFIX_stats_history.csv now; PREFIX_stats.csv comes at Close.
func NewCSV(prefix string) (*CSV, error) {
	f, err := os.Create(prefix + "_stats_history.csv")
	if err != nil {
		return nil, fmt.Errorf("creating csv output: %w", err)
	}
	c := &CSV{prefix: prefix, hf: f, hw: csv.NewWriter(f), last: -1}
	c.hw.Write(historyHeader)
	return c, nil
}

// Tick appends the aggregated row of every second closed since last time.
func (c *CSV) Tick(reg *metrics.Registry, now time.Time) error {
	c.reg = reg
	sec := int(now.Sub(reg.StartTime()) / time.Second)
	return c.history(reg, sec-1)
}

// lastSecond is the latest second any series has a point for.
func lastSecond(reg *metrics.Registry) int {
	last := -1
	for _, se := range reg.Series() {
		if n := len(se.Points); n > 0 {
			last = max(last, se.Points[n-1].Second)
		}
	}
	return last
}

func (c *CSV) history(reg *metrics.Registry, upTo int) error {
	b := reg.Builtin
	type acc struct {
		reqs, fails         int64
		measured, measFails int64   // outside the warm-up
		measBytes           float64 // data_received outside the warm-up
		users               float64
	}
	var secs = map[int]*acc{}
	get := func(s int) *acc {
		a := secs[s]
		if a == nil {
			a = &acc{}
			secs[s] = a
		}
		return a
	}
	for _, se := range reg.Series() {
		for _, p := range se.Points {
			if p.Second <= c.last || p.Second > upTo {
				continue
			}
			switch se.Metric {
			case b.HTTPReqFailed:
				a := get(p.Second)
				a.reqs += p.Count
				a.fails += p.Nonzero
				if !p.Warmup {
					a.measured += p.Count
					a.measFails += p.Nonzero
				}
			case b.DataReceived:
				if !p.Warmup {
					get(p.Second).measBytes += p.Sum
				}
			case b.VUs:
				get(p.Second).users = p.Last
			}
		}
	}
	total := reg.Total(b.HTTPReqDuration)
	start := reg.StartTime()
	for s := c.last + 1; s <= upTo; s++ {
		a := secs[s]
		if a == nil {
			continue
		}
		c.reqs += a.measured
		c.fails += a.measFails
		c.bytes += a.measBytes
		row := []string{
			// as Locust, the time the interval ended: the end of second s
			strconv.FormatInt(start.Add(time.Duration(s+1)*time.Second).Unix(), 10),
			f0(a.users), "", "Aggregated", f2(float64(a.reqs)), f2(float64(a.fails)),
		}
		row = append(row, pointPercentiles(reg, s)...)
		c.hw.Write(append(row,
			strconv.FormatInt(c.reqs, 10), strconv.FormatInt(c.fails, 10),
			f0(total.Percentile(50)), f2(total.Avg()), f0(total.Min), f0(total.Max),
			f2(perRequest(c.bytes, c.reqs)),
		))
	}
	if upTo > c.last {
		c.last = upTo
	}
	c.hw.Flush()
	return c.hw.Error()
}

// pointPercentiles are the percentile columns of second s: 50%, 90%, 95%
// and 99% of the busiest http_req_duration series of that second, 100% the
// second's slowest request of any series, and Locust's "N/A" for the
// percentiles no point keeps (66%, 75%, 80%, 98%, 99.9%, 99.99%), and for
// all of them in a second without requests. Exact per-second percentiles
// across series would need per-second histograms; the NDJSON output has
// every series' own.
func pointPercentiles(reg *metrics.Registry, s int) []string {
	var best int64
	var p50, p90, p95, p99, slowest float64
	for _, se := range reg.Series() {
		if se.Metric != reg.Builtin.HTTPReqDuration {
			continue
		}
		for _, p := range se.Points {
			if p.Second != s || p.Count == 0 {
				continue
			}
			if best == 0 || p.Max > slowest {
				slowest = p.Max
			}
			if p.Count > best {
				best = p.Count
				p50, p90, p95, p99 = p.P50, p.P90, p.P95, p.P99
			}
		}
	}
	if best == 0 {
		return naPercentiles()
	}
	return []string{f0(p50), na, na, na, f0(p90), f0(p95), na, f0(p99), na, na, f0(slowest)}
}

func naPercentiles() []string {
	out := make([]string, len(locustPercentiles))
	for i := range out {
		out[i] = na
	}
	return out
}

// percentiles are Locust's percentile columns of a run total.
func percentiles(a *metrics.Agg) []string {
	if a == nil || a.Count == 0 {
		return naPercentiles()
	}
	out := make([]string, len(locustPercentiles))
	for i, p := range locustPercentiles {
		out[i] = f0(a.Percentile(p))
	}
	return out
}

// perRequest is Locust's average content size: bytes over requests, 0
// without requests.
func perRequest(bytes float64, reqs int64) float64 {
	if reqs == 0 {
		return 0
	}
	return bytes / float64(reqs)
}

func f0(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// Close writes the history's rows of the seconds still open at the last
// tick (the run's last second, and what teardown recorded after the load),
// so that its last running total is the run's, then PREFIX_stats.csv from
// the summary.
func (c *CSV) Close(s *report.Summary) error {
	var err error
	if c.reg != nil {
		err = c.history(c.reg, lastSecond(c.reg))
	}
	if err = errors.Join(err, c.hf.Close()); err != nil {
		err = fmt.Errorf("writing %s_stats_history.csv: %w", c.prefix, err)
	}
	return errors.Join(err, c.writeStats(s))
}

// reqKey is a row of PREFIX_stats.csv, as report builds its rows: the
// method and name tags of the series.
type reqKey struct{ method, name string }

func keyOf(se *metrics.Series) reqKey {
	m, _ := se.Tags.Get("method")
	n, _ := se.Tags.Get("name")
	return reqKey{m, n}
}

// byRequest gathers, per request row, the run total of http_req_duration
// (for the percentiles the summary does not have) and of data_received,
// warm-up excluded as in the summary. Both are nil without a registry
// (no tick came).
func (c *CSV) byRequest() (map[reqKey]*metrics.Agg, map[reqKey]float64) {
	if c.reg == nil {
		return nil, nil
	}
	b := c.reg.Builtin
	durs := map[reqKey]*metrics.Agg{}
	bytes := map[reqKey]float64{}
	for _, se := range c.reg.Series() {
		switch se.Metric {
		case b.HTTPReqDuration:
			k := keyOf(se)
			if durs[k] == nil {
				durs[k] = metrics.NewAgg(metrics.Trend)
			}
			durs[k].Merge(se.Total)
		case b.DataReceived:
			bytes[keyOf(se)] += se.Total.Sum
		}
	}
	return durs, bytes
}

func (c *CSV) writeStats(s *report.Summary) error {
	f, err := os.Create(c.prefix + "_stats.csv")
	if err != nil {
		return fmt.Errorf("creating csv output: %w", err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write(statsHeader)
	durs, bytes := c.byRequest()
	contentSize := func(b float64, reqs int64) string {
		if bytes == nil {
			return na
		}
		return f2(perRequest(b, reqs))
	}
	var reqs, fails int64
	var rps, fps, allBytes float64
	all := metrics.NewAgg(metrics.Trend)
	for _, r := range s.Requests {
		k := reqKey{r.Method, r.Name}
		pcts := naPercentiles()
		switch {
		case r.Requests == 0: // as Locust, N/A without requests
		case durs[k] != nil:
			pcts = percentiles(durs[k])
			all.Merge(durs[k])
		default: // no registry: what the summary has
			pcts = []string{f0(r.Med), na, na, na, f0(r.P90), f0(r.P95), na, f0(r.P99), na, na, f0(r.Max)}
		}
		w.Write(append([]string{r.Method, r.Name, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Failures, 10),
			f0(r.Med), f2(r.Avg), f0(r.Min), f0(r.Max), contentSize(bytes[k], r.Requests), f2(r.RPS), f2(r.FailuresPerSec)},
			pcts...))
		reqs += r.Requests
		fails += r.Failures
		rps += r.RPS
		fps += r.FailuresPerSec
		allBytes += bytes[k]
	}
	if m := s.Metric("http_req_duration"); m != nil {
		v := m.Values
		agg := m.Agg
		if agg == nil {
			agg = all
		}
		pcts := percentiles(agg)
		if reqs == 0 {
			pcts = naPercentiles()
		}
		w.Write(append([]string{"", "Aggregated", strconv.FormatInt(reqs, 10), strconv.FormatInt(fails, 10),
			f0(v["med"]), f2(v["avg"]), f0(v["min"]), f0(v["max"]), contentSize(allBytes, reqs), f2(rps), f2(fps)},
			pcts...))
	}
	w.Flush()
	return w.Error()
}
