package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKnownRatio is the acceptance check: sleep 0.02 s against 0.04 s is
// reported as a ratio within 2.0 ± 0.2, and significant. Load from other
// processes adds wake-up delay to both alike and pulls the ratio towards
// 1 (at load 8 on two cores about one attempt in three misses), so a busy
// machine gets five attempts.
func TestKnownRatio(t *testing.T) {
	cmds, _ := Expand([]string{"sleep 0.02", "sleep 0.04"}, nil, nil)
	for attempt := range 5 {
		res, err := RunCommands(context.Background(), cmds, RunOptions{Warmup: 1, MinRuns: 10, MaxRuns: 10})
		if err != nil {
			t.Fatal(err)
		}
		if o := res[0].ShellOverhead.Wall; o <= 0 || o > 0.05 {
			t.Errorf("shell overhead %.4fs, want a positive few milliseconds", o)
		}
		rel := Relatives(res, CompareOptions{})
		if rel[0].Result.Command.Line != "sleep 0.02" {
			t.Fatalf("fastest is %q, want sleep 0.02", rel[0].Result.Command.Line)
		}
		r := rel[1]
		if r.Cmp.Test.N1 != 10 || r.Cmp.Test.N2 != 10 {
			t.Fatalf("n = %d+%d, want 10+10", r.Cmp.Test.N1, r.Cmp.Test.N2)
		}
		t.Logf("attempt %d: ratio %.3f ± %.3f (%s)", attempt+1, r.Ratio.Value, r.Ratio.Stddev, r.Cmp.Test)
		if r.Ratio.Value >= 1.8 && r.Ratio.Value <= 2.2 && r.Cmp.Significant {
			return
		}
	}
	t.Error("no attempt gave a significant ratio within 2.0 ± 0.2")
}

// TestSameCommandNoDifference: the same command twice is "~". A U test at
// alpha 0.05 calls two identical commands different 5% of the time by
// design, so the check gets three attempts (a 1-in-8000 chance of failing
// when surge is right; a biased runner fails every attempt).
func TestSameCommandNoDifference(t *testing.T) {
	cmds, _ := Expand([]string{"sleep 0.005", "sleep 0.005"}, []string{"a", "b"}, nil)
	var last string
	for range 3 {
		res, err := RunCommands(context.Background(), cmds, RunOptions{NoShell: true, Warmup: 1, MinRuns: 10, MaxRuns: 10})
		if err != nil {
			t.Fatal(err)
		}
		rel := Relatives(res, CompareOptions{})
		if d := rel[1].Cmp.Delta(); d == "~" {
			return
		}
		last = rel[1].Cmp.Test.String()
	}
	t.Errorf("same command reported different in 3 of 3 attempts (last %s)", last)
}

func TestFailingCommand(t *testing.T) {
	cmds, _ := Expand([]string{"exit 3"}, nil, nil)
	_, err := RunCommands(context.Background(), cmds, RunOptions{MinRuns: 2, MaxRuns: 2})
	var fe *FailureError
	if !errors.As(err, &fe) || fe.ExitCode != 3 || !strings.Contains(err.Error(), "exited with code 3") || !strings.Contains(err.Error(), "--ignore-failure") {
		t.Fatalf("err = %v, want a FailureError with exit code 3 naming -i", err)
	}
	res, err := RunCommands(context.Background(), cmds, RunOptions{MinRuns: 2, MaxRuns: 2, IgnoreFailure: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Failed() != 2 || res[0].Runs[0].ExitCode != 3 {
		t.Errorf("runs %+v, want 2 failed runs with exit code 3", res[0].Runs)
	}
	w := Warnings(res[0])
	if len(w) == 0 || !strings.Contains(w[0], "non-zero exit codes in 2 of 2 runs (first: 3)") {
		t.Errorf("warnings %q lack the ignored exit code", w)
	}
}

func TestMissingProgramNoShell(t *testing.T) {
	cmds, _ := Expand([]string{"surge-no-such-program-xyz"}, nil, nil)
	_, err := RunCommands(context.Background(), cmds, RunOptions{NoShell: true, MinRuns: 1, MaxRuns: 1})
	if err == nil || !strings.Contains(err.Error(), "surge-no-such-program-xyz") {
		t.Fatalf("err = %v, want one naming the missing program", err)
	}
}

// TestSetupPrepareCleanup checks the order and count of the auxiliary
// commands, with parameter substitution, through a log file.
func TestSetupPrepareCleanup(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	scan, err := RangeParam("n", "1", "2", "1")
	if err != nil {
		t.Fatal(err)
	}
	cmds, _ := Expand([]string{"echo run{n} >> " + log}, nil, []Param{scan})
	_, err = RunCommands(context.Background(), cmds, RunOptions{
		Warmup: 1, MinRuns: 2, MaxRuns: 2,
		Setup:   "echo setup{n} >> " + log,
		Prepare: []string{"echo prep >> " + log},
		Cleanup: "echo cleanup{n} >> " + log,
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	got := strings.Fields(string(data))
	want := []string{"setup1", "setup2",
		"prep", "run1", "prep", "run2", // warm-up
		"prep", "run1", "prep", "run2", // round 1, interleaved
		"prep", "run2", "prep", "run1", // round 2, backwards
		"cleanup1", "cleanup2"}
	if !slices.Equal(got, want) {
		t.Errorf("log = %v, want %v", got, want)
	}
}

func TestPrepareFailureStops(t *testing.T) {
	cmds, _ := Expand([]string{"true"}, nil, nil)
	_, err := RunCommands(context.Background(), cmds, RunOptions{MinRuns: 1, MaxRuns: 1, Prepare: []string{"exit 4"}, IgnoreFailure: true})
	if err == nil || !strings.Contains(err.Error(), `prepare command "exit 4" exited with code 4`) {
		t.Fatalf("err = %v, want the failed prepare command", err)
	}
}

func TestMinTime(t *testing.T) {
	cmds, _ := Expand([]string{"true"}, nil, nil)
	start := time.Now()
	res, err := RunCommands(context.Background(), cmds, RunOptions{NoShell: true, MinRuns: 2, MinTime: 150 * time.Millisecond, MaxRuns: 500})
	if err != nil {
		t.Fatal(err)
	}
	var spent float64
	for _, r := range res[0].Runs {
		spent += r.Wall
	}
	if spent < 0.15 || len(res[0].Runs) <= 2 {
		t.Errorf("%d runs took %.3fs, want ≥ 0.15s of runs", len(res[0].Runs), spent)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read on Linux only")
	}
	// dd reads into a 64 MiB buffer, so its peak is at least that.
	cmds, _ := Expand([]string{"dd if=/dev/zero of=/dev/null bs=64M count=1", "true"}, nil, nil)
	res, err := RunCommands(context.Background(), cmds, RunOptions{NoShell: true, MinRuns: 1, MaxRuns: 1})
	if err != nil {
		t.Fatal(err)
	}
	dd, tr := res[0], res[1]
	if dd.PeakRSS() < 64<<20 || dd.PeakRSS() <= dd.RSSFloor {
		t.Errorf("dd peak RSS %d, want ≥ 64 MiB and above the floor %d", dd.PeakRSS(), dd.RSSFloor)
	}
	if tr.PeakRSS() <= 0 || tr.RSSFloor <= 0 || tr.PeakRSS() > tr.RSSFloor+(1<<20) {
		t.Errorf("true peak RSS %d floor %d: want positive and at the floor", tr.PeakRSS(), tr.RSSFloor)
	}
}

func TestRunOptionsValidate(t *testing.T) {
	cmds, _ := Expand([]string{"true", "true"}, nil, nil)
	tests := []struct {
		opts RunOptions
		want string
	}{
		{RunOptions{MinRuns: 5, MaxRuns: 2}, "max runs 2 is below min runs 5"},
		{RunOptions{Prepare: []string{"a", "b", "c"}}, "3 prepare commands for 2 commands"},
	}
	for _, tt := range tests {
		_, err := RunCommands(context.Background(), cmds, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
	if _, err := RunCommands(context.Background(), nil, RunOptions{}); err == nil {
		t.Error("no commands: no error")
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"sleep 0.1", []string{"sleep", "0.1"}, ""},
		{`echo 'a b' "c \"d\"" e\ f`, []string{"echo", "a b", `c "d"`, "e f"}, ""},
		{`echo ''`, []string{"echo", ""}, ""},
		{"  x  ", []string{"x"}, ""},
		{"echo 'open", nil, "unterminated ' quote"},
		{`echo \`, nil, "trailing backslash"},
		{"   ", nil, "empty command"},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SplitWords(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	th, _ := RangeParam("t", "1", "2", "1")
	mode := Param{Name: "m", Values: []string{"a", "b"}}
	cmds, err := Expand([]string{"run -t {t} -m {m}"}, []string{"run {t}{m}"}, []Param{th, mode})
	if err != nil {
		t.Fatal(err)
	}
	var lines, names []string
	for _, c := range cmds {
		lines, names = append(lines, c.Line), append(names, c.Name)
	}
	if want := []string{"run -t 1 -m a", "run -t 1 -m b", "run -t 2 -m a", "run -t 2 -m b"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if want := []string{"run 1a", "run 1b", "run 2a", "run 2b"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if _, err := Expand([]string{"a", "b"}, []string{"x"}, nil); err == nil {
		t.Error("mismatched names: no error")
	}
}

func TestRangeParam(t *testing.T) {
	tests := []struct {
		lo, hi, step string
		want         []string
		err          string
	}{
		{"1", "8", "1", []string{"1", "2", "3", "4", "5", "6", "7", "8"}, ""},
		{"0", "1", "0.25", []string{"0", "0.25", "0.5", "0.75", "1"}, ""},
		{"0", "0.3", "0.1", []string{"0", "0.1", "0.2", "0.3"}, ""},
		{"8", "1", "1", nil, "below lower bound"},
		{"1", "x", "1", nil, "must be numbers"},
		{"1", "2", "0", nil, "step must be positive"},
	}
	for _, tt := range tests {
		p, err := RangeParam("n", tt.lo, tt.hi, tt.step)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("RangeParam(%s,%s,%s) err = %v, want %q", tt.lo, tt.hi, tt.step, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(p.Values, tt.want) {
			t.Errorf("RangeParam(%s,%s,%s) = %v, %v; want %v", tt.lo, tt.hi, tt.step, p.Values, err, tt.want)
		}
	}
}
