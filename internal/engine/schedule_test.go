package engine

import (
	"testing"
	"testing/quick"
	"time"
)

func TestRampAt(t *testing.T) {
	stages := []Stage{{30 * time.Second, 10}, {60 * time.Second, 10}, {10 * time.Second, 0}}
	tests := []struct {
		t    time.Duration
		want float64
	}{
		{0, 0}, {15 * time.Second, 5}, {30 * time.Second, 10}, {60 * time.Second, 10},
		{95 * time.Second, 5}, {100 * time.Second, 0}, {200 * time.Second, 0},
	}
	for _, tc := range tests {
		if got := RampAt(0, stages, tc.t); got != tc.want {
			t.Errorf("RampAt(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

func TestConstantPacer(t *testing.T) {
	p := NewConstantPacer(100, time.Second, 10*time.Second)
	tests := []struct {
		i    int64
		want time.Duration
		ok   bool
	}{
		{0, 0, true}, {1, 10 * time.Millisecond, true}, {999, 9990 * time.Millisecond, true}, {1000, 0, false},
	}
	for _, tc := range tests {
		got, ok := p.Due(tc.i)
		if ok != tc.ok || (ok && absDur(got-tc.want) > time.Microsecond) {
			t.Errorf("Due(%d) = %v %v, want %v %v", tc.i, got, ok, tc.want, tc.ok)
		}
	}
	if n := p.Count(10 * time.Second); n != 1000 {
		t.Errorf("Count(10s) = %d, want 1000", n)
	}
	if n := p.Count(time.Second); n != 100 {
		t.Errorf("Count(1s) = %d, want 100", n)
	}
	perMinute := NewConstantPacer(60, time.Minute, time.Minute)
	if d, _ := perMinute.Due(1); absDur(d-time.Second) > time.Microsecond {
		t.Errorf("60/min: second arrival at %v, want 1s", d)
	}
}

func TestRampingPacer(t *testing.T) {
	// 0 → 100/s over 10 s: 500 arrivals, the i-th at sqrt(i/5) s
	p := RatePacer{Start: 0, TimeUnit: time.Second, Stages: []Stage{{10 * time.Second, 100}}}
	if n := p.Count(10 * time.Second); n != 500 {
		t.Fatalf("Count = %d, want 500", n)
	}
	d, ok := p.Due(125) // sqrt(25) = 5 s
	if !ok || absDur(d-5*time.Second) > time.Microsecond {
		t.Fatalf("Due(125) = %v, want 5s", d)
	}
}

// TestPacerDueCountAgree checks the pacer's two directions against each
// other: arrival i is due at a time before which exactly i arrivals fall.
func TestPacerDueCountAgree(t *testing.T) {
	p := RatePacer{Start: 5, TimeUnit: time.Second, Stages: []Stage{{3 * time.Second, 50}, {2 * time.Second, 50}, {4 * time.Second, 1}}}
	total := p.Count(time.Hour)
	f := func(x uint16) bool {
		i := int64(x) % total
		d, ok := p.Due(i)
		if !ok {
			return false
		}
		return p.Count(d) == i && p.Count(d+time.Millisecond) >= i+1
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
