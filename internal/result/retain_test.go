package result

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// TestPerSecondOfMergedPoints: a saved long run whose old seconds were
// merged into buckets still gives compare per-second request counts (a
// bucket's count divided by its seconds), and reads back with its buckets.
func TestPerSecondOfMergedPoints(t *testing.T) {
	defer metrics.SetRetention(30, 20)()
	reg := metrics.NewRegistry()
	start := time.Unix(1000, 0)
	reg.Start(start, 0)
	for sec := range 500 {
		for _, name := range []string{"a", "b"} {
			tags := reg.Intern(metrics.Tag{Key: "name", Value: name})
			for range 5 {
				reg.Shard(0).Add(reg.Builtin.HTTPReqs, tags, 1)
			}
		}
		reg.Tick(start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond))
	}
	r := New(&report.Summary{Start: start}, reg, "test", nil)
	path := filepath.Join(t.TempDir(), "run.json.gz")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	merged := 0
	for _, p := range back.Series[0].Points {
		if p.Width() > 1 {
			merged++
		}
	}
	if merged == 0 {
		t.Fatal("no merged point was saved: the test does not test merging")
	}
	counts := back.perSecondCount("http_reqs")
	if len(counts) == 0 {
		t.Fatal("no per-second counts")
	}
	for _, c := range counts {
		if c != 10 {
			t.Fatalf("per-second counts %v, want 10 each (two series of 5)", counts)
		}
	}
}
