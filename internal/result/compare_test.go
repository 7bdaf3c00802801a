package result

import (
	"math"
	"testing"
)

func TestMinP(t *testing.T) {
	tests := []struct {
		n, m int
		want float64
	}{
		{3, 3, 0.1}, {4, 3, 2.0 / 35}, {4, 4, 2.0 / 70}, {10, 10, 2.0 / 184756},
	}
	for _, tc := range tests {
		if got := minP(tc.n, tc.m); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("minP(%d, %d) = %v, want %v", tc.n, tc.m, got, tc.want)
		}
	}
}

func TestFailOn(t *testing.T) {
	rows := []Row{
		{Metric: "http_req_duration", Stat: "p(95)", Change: 0.30, P: 0.01, Significant: true},
		{Metric: "http_reqs", Stat: "rate", Change: -0.20, P: 0.30},
		{Metric: "x", Stat: "avg", Change: 0.50, P: math.NaN()},
	}
	tests := []struct {
		rule string
		bad  int
	}{
		{"http_req_duration:p(95)>+10%", 1},
		{"http_req_duration:p(95)>+50%", 0},
		{"http_reqs:rate<-10%", 0}, // within noise (p 0.30)
		{"x:avg>+10%", 1},          // no test possible: the change alone decides
	}
	for _, tc := range tests {
		f, err := ParseFailOn(tc.rule)
		if err != nil {
			t.Fatal(err)
		}
		bad, found := f.Violations(rows)
		if !found || len(bad) != tc.bad {
			t.Errorf("%s: %d violations (found %v), want %d", tc.rule, len(bad), found, tc.bad)
		}
	}
	if _, err := ParseFailOn("p95 went up"); err == nil {
		t.Error("want an error for a rule without METRIC:STAT>N%")
	}
}
