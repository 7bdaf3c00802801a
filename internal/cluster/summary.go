package cluster

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// Decorate adds the distributed view to a summary built from the merged
// registry: one note per lost worker, the workers' distinct errors, and a
// "workers" section with each worker's state, VUs, request rate, CPU and
// last heartbeat.
func Decorate(sum *report.Summary, o *Outcome) {
	for _, l := range o.Losses {
		what := "nothing left to run"
		if len(l.Segments) > 0 {
			what = "segment " + strings.Join(l.Segments, ", ")
		}
		sum.Notes = append(sum.Notes, fmt.Sprintf("worker %s was lost at %s (%s): %s", l.Worker, l.At.Truncate(100*time.Millisecond), what, l.Action))
	}
	if len(o.Errors) > 0 {
		byKey := map[[3]string]int{}
		for i, e := range sum.Errors {
			byKey[[3]string{e.Kind, e.Message, e.Where}] = i
		}
		for _, e := range o.Errors {
			if i, ok := byKey[[3]string{e.Kind, e.Message, e.Where}]; ok {
				sum.Errors[i].Count += e.Count
				continue
			}
			sum.Errors = append(sum.Errors, e)
		}
		sort.SliceStable(sum.Errors, func(i, j int) bool { return sum.Errors[i].Count > sum.Errors[j].Count })
	}
	sum.Attachments = append(sum.Attachments, report.Attachment{Title: "workers", Text: WorkersText(o.Workers, sum.Start.Add(sum.Duration+sum.Warmup))})
}

// WorkersText is the per-worker table. Heartbeats are shown relative to
// end (the end of the run).
func WorkersText(ws []WorkerView, end time.Time) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "worker\tstate\tpeak VUs\treq/s\tCPU\trequests\titerations\tlast heartbeat\tsegments")
	for _, w := range ws {
		hb := end.Sub(w.LastHeartbeat).Truncate(100 * time.Millisecond)
		ago := "at the end"
		if hb > 0 {
			ago = hb.String() + " before the end"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f%%\t%d\t%d\t%s\t%s\n", w.Name, w.State, w.VUs, w.RPS, 100*w.CPU, w.Requests, w.Iterations, ago, strings.Join(w.Segments, "; "))
	}
	tw.Flush()
	return b.String()
}

// StatusLine is the master's live status: elapsed time, VUs across the
// workers, and the requests of the last second.
func StatusLine(reg *metrics.Registry, now time.Time) string {
	b := reg.Builtin
	var vus, reqs float64
	cur := int(now.Sub(reg.StartTime()) / time.Second)
	for _, se := range reg.Series() {
		if len(se.Points) == 0 {
			continue
		}
		last := se.Points[len(se.Points)-1]
		if last.Second+last.Width() < cur && se.Metric != b.VUs {
			continue // a series that stopped recording is not this second's
		}
		switch se.Metric {
		case b.VUs:
			vus = last.Last
		case b.HTTPReqs:
			reqs += last.Sum
		}
	}
	return fmt.Sprintf("running %s  VUs %.0f  %.0f req/s", now.Sub(reg.StartTime()).Truncate(time.Second), vus, reqs)
}
