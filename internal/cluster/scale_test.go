package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// BenchmarkCluster100InProcessWorkers runs 100 workers in this process,
// each at 20 requests/s over gRPC on loopback to one master, for 3 s, and
// reports the master's merge cost (decode, sum, merge, tick) per second of
// the run. It runs the cluster once whatever b.N is.
func BenchmarkCluster100InProcessWorkers(b *testing.B) {
	const workers = 100
	tg := newTarget(b)
	ctx := context.Background()
	c := startMaster(b, ctx, workers, func(m *MasterConfig) { m.WaitTimeout = time.Minute })
	load := loader(tg.URL, engine.ConstantArrivalRate{Rate: 20 * workers, Duration: 3 * time.Second, PreAllocatedVUs: 2 * workers, MaxVUs: 10 * workers})
	var ws []chan workerRun
	for range workers {
		ws = append(ws, startWorker(ctx, c.addr, "s3cret", load))
	}
	var o *Outcome
	select {
	case o = <-c.outcome:
		if err := <-c.errc; err != nil {
			b.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		b.Fatalf("the master did not finish\n%s", c.log)
	}
	for _, ch := range ws {
		if wr := <-ch; wr.err != nil {
			b.Fatal(wr.err)
		}
	}
	total := c.reg.Total(c.reg.Builtin.HTTPReqs).Sum
	if total < 5900 {
		b.Fatalf("%v requests, want 6000", total)
	}
	perSec := o.MergeTime / time.Duration(max(o.Ticks-1, 1))
	b.ReportMetric(float64(perSec.Microseconds())/1000, "merge-ms/s")
	b.ReportMetric(total, "requests")
}
