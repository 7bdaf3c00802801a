package clock

import (
	"testing"
	"time"
)

// TestNowAgreesWithTimeNow: Now's times order and subtract with time.Now's
// (monotonic readings) within a microsecond, and its wall time matches.
func TestNowAgreesWithTimeNow(t *testing.T) {
	const slack = time.Microsecond
	for range 1000 {
		a := time.Now()
		b := Now()
		c := time.Now()
		if b.Sub(a) < -slack || c.Sub(b) < -slack {
			t.Fatalf("Now %v not between time.Now readings %v and %v", b, a, c)
		}
	}
	for range 1000 { // its own readings never go back
		if a, b := Now(), Now(); b.Before(a) {
			t.Fatalf("Now went back: %v then %v", a, b)
		}
	}
	a := Now()
	time.Sleep(20 * time.Millisecond)
	if d := Since(a); d < 20*time.Millisecond || d > time.Second {
		t.Errorf("Since after a 20 ms sleep = %v", d)
	}
	if d := time.Since(Now()); d < 0 || d > time.Millisecond {
		t.Errorf("time.Since(Now()) = %v, want a few nanoseconds", d)
	}
	if d := Now().Round(0).Sub(time.Now().Round(0)); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("wall clocks differ by %v", d)
	}
}

func BenchmarkNow(b *testing.B) {
	for b.Loop() {
		_ = Now()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now()
	}
}
