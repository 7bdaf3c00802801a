package output

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// jsonOfRun runs seconds one-second ticks, record adding each second's
// samples, through an NDJSON output, and returns its lines and the
// registry.
func jsonOfRun(t *testing.T, seconds int, record func(reg *metrics.Registry, sec int)) ([]Line, *metrics.Registry) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "points.ndjson")
	j, err := NewJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	start := time.Unix(1000, 0)
	reg.Start(start, 0)
	for sec := range seconds {
		record(reg, sec)
		now := start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		reg.Tick(now)
		if err := j.Tick(reg, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []Line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines, reg
}

// TestJSONAcrossMergedPoints: a run long enough that the registry merges
// old points (metrics.RecentSeconds) still gets every second into the
// NDJSON output exactly once, as it happened: the output writes each tick,
// before the second ages, and follows seconds, not indexes, through the
// merges.
func TestJSONAcrossMergedPoints(t *testing.T) {
	defer metrics.SetRetention(20, 10)()
	const seconds = 1000
	lines, reg := jsonOfRun(t, seconds, func(reg *metrics.Registry, sec int) {
		for range 1 + sec%3 {
			reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
		}
	})
	if n := len(reg.Series()[0].Points); n > metrics.PointBudget() {
		t.Fatalf("the series kept %d points, budget %d", n, metrics.PointBudget())
	}
	if len(lines) != seconds {
		t.Fatalf("%d lines, want one per second (%d)", len(lines), seconds)
	}
	for i, l := range lines {
		if l.Second != i || l.Sum != float64(1+i%3) {
			t.Fatalf("line %d: %+v, want second %d with %d requests", i, l, i, 1+i%3)
		}
	}
}

// TestJSONSparseSeriesLastPoint: a series that stops early (a login made
// only in the first seconds) has its last point written when its second
// closes, not held back until the end, by which time a merge has folded
// it into an older bucket the output already passed.
func TestJSONSparseSeriesLastPoint(t *testing.T) {
	defer metrics.SetRetention(20, 10)()
	var login *metrics.TagSet
	lines, _ := jsonOfRun(t, 200, func(reg *metrics.Registry, sec int) {
		if login == nil {
			login = reg.Intern(metrics.Tag{Key: "name", Value: "login"})
		}
		if sec < 6 {
			reg.Shard(0).Add(reg.Builtin.HTTPReqs, login, 1)
		}
		reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
	})
	var logins, all float64
	for _, l := range lines {
		if l.Tags["name"] == "login" {
			logins += l.Sum
		} else {
			all += l.Sum
		}
	}
	if logins != 6 || all != 200 {
		t.Errorf("written: %v login requests, %v others; want 6 and 200", logins, all)
	}
}
