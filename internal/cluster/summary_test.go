package cluster

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestDecorateGolden renders the summary of a distributed run with a lost
// worker: the loss note, the merged errors and the workers section.
func TestDecorateGolden(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(6 * time.Second)
	reg := metrics.NewRegistry()
	reg.Start(start, 0)
	mg := NewMerger()
	mg.Add(EncodeDeltas(secondOfLoad(300, 1, 9)), nil)
	mg.Flush(reg)
	reg.Tick(end)
	o := &Outcome{
		Result: &engine.Result{Start: start, End: end, Iterations: 300},
		Losses: []Loss{{Worker: "w1", At: 2100 * time.Millisecond, Segments: []string{"0/3–1/3"}, Action: "its share for the remaining time went to w0, w2"}},
		Errors: []metrics.ErrorEntry{{Kind: "request", Message: "connection refused", Where: "/api/0", Count: 3}},
		Workers: []WorkerView{
			{Name: "w1", State: "lost", Segments: []string{"0/3–1/3"}, VUs: 33, RPS: 8, CPU: 0.02, Requests: 50, LastHeartbeat: start.Add(2 * time.Second)},
			{Name: "w0", State: "done", Segments: []string{"1/3–2/3", "0/3–1/3 +2s:0/2–1/2"}, VUs: 49, RPS: 66, CPU: 0.28, Requests: 398, Iterations: 398, LastHeartbeat: end},
		},
	}
	sum := report.Build(reg, o.Result, []string{"avg", "p(99)"})
	Decorate(sum, o)
	var b bytes.Buffer
	if err := sum.WriteText(&b, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("summary differs from %s (run with -update after checking):\n%s", golden, b.String())
	}
}
