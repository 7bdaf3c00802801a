package dashboard

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// statsFixture is two request names, failures and an exception over 4 s.
func statsFixture() (*fixture, time.Time) {
	f := newFixture(0)
	for i := 1; i <= 40; i++ {
		f.request("default", "home", float64(i), false)
	}
	for i := 1; i <= 20; i++ {
		f.request("default", "cart", float64(100+i), i > 15)
	}
	for range 5 {
		f.reg.Errors.Add("request", "HTTP 500 Internal Server Error", "cart")
	}
	for range 3 {
		f.reg.Errors.Add("exception", "TypeError: cannot read property 'id' of undefined", "load.js:12:7")
	}
	return f, f.tick(4, 3)
}

func TestBuildStats(t *testing.T) {
	f, now := statsFixture()
	st := buildStats(f.reg, now, 4*time.Second)
	if len(st.Requests) != 2 || st.Requests[0].Name != "cart" || st.Requests[1].Name != "home" {
		t.Fatalf("rows = %+v, want cart and home", st.Requests)
	}
	cart := st.Requests[0]
	if cart.Requests != 20 || cart.Failures != 5 || cart.RPS != 5 || cart.FPS != 1.25 || cart.Min != 101 || cart.Max != 120 {
		t.Errorf("cart row = %+v, want 20 requests, 5 failures, 5 req/s, 1.25 fail/s, min 101, max 120", cart)
	}
	if st.Total == nil || st.Total.Name != "Aggregated" || st.Total.Requests != 60 || st.Total.Failures != 5 || st.Total.RPS != 15 || st.Total.Max != 120 || st.Total.Min != 1 {
		t.Errorf("aggregated row = %+v, want 60 requests, 5 failures, 15 req/s, min 1, max 120", st.Total)
	}
	if len(st.Failures) != 1 || st.Failures[0].Count != 5 || st.Failures[0].Where != "cart" {
		t.Errorf("failures = %+v, want one HTTP 500 on cart ×5", st.Failures)
	}
	if len(st.Exceptions) != 1 || st.Exceptions[0].Count != 3 || st.Exceptions[0].Where != "load.js:12:7" {
		t.Errorf("exceptions = %+v, want one TypeError at load.js:12:7 ×3", st.Exceptions)
	}
	if st.Users != 3 || st.Elapsed != 4 {
		t.Errorf("users %v elapsed %v, want 3 and 4", st.Users, st.Elapsed)
	}
	// Nothing measured yet (warm-up): rates are zero, not infinite.
	if st := buildStats(f.reg, now, 0); st.Requests[0].RPS != 0 || st.Total.RPS != 0 {
		t.Errorf("rates over an empty window = %v, %v, want 0", st.Requests[0].RPS, st.Total.RPS)
	}
}

func TestStatsCSVGolden(t *testing.T) {
	f, now := statsFixture()
	st := buildStats(f.reg, now, 4*time.Second)
	for _, tc := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"stats.csv", func(b *bytes.Buffer) error { return st.WriteCSV(b) }},
		{"failures.csv", func(b *bytes.Buffer) error { return st.WriteFailuresCSV(b) }},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s:\n%s", tc.file, golden, b.String())
		}
	}
}

func TestStageMarks(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []float64
	}{
		{"", nil},
		{"30s:20", []float64{30}},
		{"30s:20, 1m:50, 10s:0", []float64{30, 90, 100}},
		{"bogus", nil},
	} {
		got := stageMarks(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("stageMarks(%q) = %v, want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("stageMarks(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}
