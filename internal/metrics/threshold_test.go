package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestParseThresholdFlag(t *testing.T) {
	tests := []struct {
		in      string
		metric  string
		filter  string
		stat    string
		p       float64
		op      string
		bound   float64
		wantErr string
	}{
		{in: "http_req_duration: p(95)<500", metric: "http_req_duration", stat: "p", p: 95, op: "<", bound: 500},
		{in: "http_req_duration{name:login}: p(99.9) <= 1000", metric: "http_req_duration", filter: "name:login", stat: "p", p: 99.9, op: "<=", bound: 1000},
		{in: "http_req_failed: rate<0.01", metric: "http_req_failed", stat: "rate", op: "<", bound: 0.01},
		{in: "http_reqs: count>100", metric: "http_reqs", stat: "count", op: ">", bound: 100},
		{in: "x{a:1, b:2}: avg===3", metric: "x", filter: "a:1,b:2", stat: "avg", op: "==", bound: 3},
		{in: "http_req_duration: p(95<500", wantErr: `expected ")" at column 5`},
		{in: "http_req_duration: p95<500", wantErr: `unknown aggregation "p95"`},
		{in: "http_req_duration: avg 500", wantErr: "expected a comparison"},
		{in: "http_req_duration: avg<fast", wantErr: `expected a number, got "fast" at column 5`},
		{in: "http_req_duration p(95)<500", wantErr: `expected "metric: expression"`},
		{in: "http_req_duration{name}: avg<1", wantErr: `expected "tag:value"`},
		{in: "http_req_duration: p(101)<1", wantErr: "percentile between 0 and 100"},
	}
	for _, tc := range tests {
		th, err := ParseThresholdFlag(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want it to contain %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var f []string
		for _, p := range th.Filter {
			f = append(f, p.Key+":"+p.Value)
		}
		if th.Metric != tc.metric || strings.Join(f, ",") != tc.filter || th.Stat != tc.stat || th.P != tc.p || th.Op != tc.op || th.Bound != tc.bound {
			t.Errorf("%q: got %+v", tc.in, th)
		}
	}
}

func TestThresholdObserve(t *testing.T) {
	trend := NewAgg(Trend)
	for i := 1; i <= 1000; i++ {
		trend.Add(float64(i)) // 1..1000 ms
	}
	rate := NewAgg(Rate)
	for i := 0; i < 200; i++ {
		rate.Add(float64(i % 2))
	}
	counter := NewAgg(Counter)
	for i := 0; i < 50; i++ {
		counter.Add(2)
	}
	tests := []struct {
		expr string
		agg  *Agg
		want float64
		tol  float64 // relative
	}{
		{"avg<1", trend, 500.5, 0},
		{"min<1", trend, 1, 0},
		{"max<1", trend, 1000, 0},
		{"med<1", trend, 500, 0.01},
		{"p(95)<1", trend, 950, 0.01},
		{"p(99)<1", trend, 990, 0.01},
		{"rate<1", rate, 0.5, 0},
		{"count<1", counter, 100, 0},
		{"rate<1", counter, 10, 0}, // 100 over 10 s
	}
	for _, tc := range tests {
		th, err := ParseThreshold("m", tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := th.Observe(tc.agg, 10*time.Second)
		if d := got - tc.want; d > tc.want*tc.tol+1e-9 || -d > tc.want*tc.tol+1e-9 {
			t.Errorf("%s: observed %v, want %v ±%v%%", tc.expr, got, tc.want, tc.tol*100)
		}
	}
}

func TestThresholdCheckType(t *testing.T) {
	th, _ := ParseThreshold("http_reqs", "p(95)<1")
	r := NewRegistry()
	if err := th.Check(r.Builtin.HTTPReqs); err == nil || !strings.Contains(err.Error(), "a counter metric has no \"p\"") {
		t.Errorf("got %v", err)
	}
}
