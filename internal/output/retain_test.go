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

// TestJSONAcrossMergedPoints: a run long enough that the registry merges
// old points (metrics.RecentSeconds) still gets every second into the
// NDJSON output exactly once, as it happened: the output writes each tick,
// before the second ages, and follows seconds, not indexes, through the
// merges.
func TestJSONAcrossMergedPoints(t *testing.T) {
	defer func(r, o int) { metrics.RecentSeconds, metrics.OldBuckets = r, o }(metrics.RecentSeconds, metrics.OldBuckets)
	metrics.RecentSeconds, metrics.OldBuckets = 20, 10
	const seconds = 1000
	path := filepath.Join(t.TempDir(), "points.ndjson")
	j, err := NewJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	start := time.Unix(1000, 0)
	reg.Start(start, 0)
	sh := reg.Shard(0)
	for sec := 0; sec < seconds; sec++ {
		for range 1 + sec%3 {
			sh.Add(reg.Builtin.HTTPReqs, nil, 1)
		}
		now := start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		reg.Tick(now)
		if err := j.Tick(reg, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(nil); err != nil {
		t.Fatal(err)
	}
	if n := len(reg.Series()[0].Points); n > metrics.PointBudget() {
		t.Fatalf("the series kept %d points, budget %d", n, metrics.PointBudget())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	next := 0
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Second != next || l.Sum != float64(1+next%3) {
			t.Fatalf("line %s: want second %d with %d requests", sc.Bytes(), next, 1+next%3)
		}
		next++
	}
	if next != seconds {
		t.Fatalf("%d lines, want one per second (%d)", next, seconds)
	}
}

// TestJSONSparseSeriesLastPoint: a series that stops early (a login made
// only in the first seconds) has its last point written when its second
// closes, not held back until the end, by which time a merge has folded
// it into an older bucket the output already passed.
func TestJSONSparseSeriesLastPoint(t *testing.T) {
	defer func(r, o int) { metrics.RecentSeconds, metrics.OldBuckets = r, o }(metrics.RecentSeconds, metrics.OldBuckets)
	metrics.RecentSeconds, metrics.OldBuckets = 20, 10
	path := filepath.Join(t.TempDir(), "points.ndjson")
	j, err := NewJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	start := time.Unix(1000, 0)
	reg.Start(start, 0)
	login := reg.Intern(metrics.Tag{Key: "name", Value: "login"})
	for sec := range 200 {
		if sec < 6 {
			reg.Shard(0).Add(reg.Builtin.HTTPReqs, login, 1)
		}
		reg.Shard(0).Add(reg.Builtin.HTTPReqs, nil, 1)
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
	sc := bufio.NewScanner(f)
	var logins, all float64
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
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
