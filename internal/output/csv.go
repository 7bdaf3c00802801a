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
// interval, the final one included.
type CSV struct {
	prefix string
	hf     *os.File
	hw     *csv.Writer
	last   int
	reg    *metrics.Registry // from Tick, for the last rows at Close
	// the running totals of the rows written: requests and failures up to
	// the end of the last row's second, warm-up excluded (as in the totals)
	reqs, fails int64
}

var historyHeader = []string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
	"50%", "90%", "95%", "99%", "Total Request Count", "Total Failure Count",
	"Total Median Response Time", "Total Average Response Time", "Total Min Response Time", "Total Max Response Time"}

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
		measured, measFails int64 // outside the warm-up
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
		p50, p90, p95, p99 := pointPercentiles(reg, s)
		c.reqs += a.measured
		c.fails += a.measFails
		c.hw.Write([]string{
			// as Locust, the time the interval ended: the end of second s
			strconv.FormatInt(start.Add(time.Duration(s+1)*time.Second).Unix(), 10),
			f0(a.users), "", "Aggregated", f2(float64(a.reqs)), f2(float64(a.fails)),
			f0(p50), f0(p90), f0(p95), f0(p99),
			strconv.FormatInt(c.reqs, 10), strconv.FormatInt(c.fails, 10),
			f0(total.Percentile(50)), f2(total.Avg()), f0(total.Min), f0(total.Max),
		})
	}
	if upTo > c.last {
		c.last = upTo
	}
	c.hw.Flush()
	return c.hw.Error()
}

// pointPercentiles takes the percentiles of second s from the busiest
// http_req_duration series of that second. Exact per-second percentiles
// across series would need per-second histograms; the NDJSON output has
// every series' own.
func pointPercentiles(reg *metrics.Registry, s int) (p50, p90, p95, p99 float64) {
	var best int64
	for _, se := range reg.Series() {
		if se.Metric != reg.Builtin.HTTPReqDuration {
			continue
		}
		for _, p := range se.Points {
			if p.Second == s && p.Count > best {
				best = p.Count
				p50, p90, p95, p99 = p.P50, p.P90, p.P95, p.P99
			}
		}
	}
	return
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

func (c *CSV) writeStats(s *report.Summary) error {
	f, err := os.Create(c.prefix + "_stats.csv")
	if err != nil {
		return fmt.Errorf("creating csv output: %w", err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
		"Min Response Time", "Max Response Time", "Requests/s", "Failures/s", "50%", "90%", "95%", "99%"})
	var reqs, fails int64
	var rps, fps float64
	for _, r := range s.Requests {
		w.Write([]string{r.Method, r.Name, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Failures, 10),
			f0(r.Med), f2(r.Avg), f0(r.Min), f0(r.Max), f2(r.RPS), f2(r.FailuresPerSec), f0(r.Med), f0(r.P90), f0(r.P95), f0(r.P99)})
		reqs += r.Requests
		fails += r.Failures
		rps += r.RPS
		fps += r.FailuresPerSec
	}
	if m := s.Metric("http_req_duration"); m != nil {
		v := m.Values
		w.Write([]string{"", "Aggregated", strconv.FormatInt(reqs, 10), strconv.FormatInt(fails, 10),
			f0(v["med"]), f2(v["avg"]), f0(v["min"]), f0(v["max"]), f2(rps), f2(fps), f0(v["med"]), f0(v["p(90)"]), f0(v["p(95)"]), f0(v["p(99)"])})
	}
	w.Flush()
	return w.Error()
}
