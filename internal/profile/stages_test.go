package profile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestStagesOfAProcess(t *testing.T) {
	bin := buildGo(t, "hot")
	cmd := startReady(t, bin, "30s")
	st, err := StartStages(context.Background(), Target{PID: cmd.Process.Pid}, Options{Rate: 499})
	if err != nil {
		t.Fatal(err)
	}
	for _, stage := range []struct {
		name string
		load float64
	}{{"warm-up: 10 users", 10}, {"100 users", 100}} {
		time.Sleep(400 * time.Millisecond)
		if _, err := st.End(stage.name, stage.load); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stages) != 2 || res.Heap != nil {
		t.Fatalf("got %d stages, heap %v", len(res.Stages), res.Heap != nil)
	}
	for _, s := range res.Stages {
		if share, n := shareOf(s.Profile, "main.hot"); n == 0 || share < 0.8 {
			t.Errorf("stage %q: main.hot %.0f%% of %d samples", s.Name, 100*share, n)
		}
	}
	if sum := res.Summary("users"); !strings.HasPrefix(sum, "at 100 users, ") || !strings.Contains(sum, "% of CPU is in ") {
		t.Errorf("summary = %q", sum)
	}
	dir := t.TempDir()
	paths, err := res.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "cpu-1-warm-up-10-users.pb.gz"), filepath.Join(dir, "cpu-2-100-users.pb.gz")}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("saved %v, want %v", paths, want)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	var html bytes.Buffer
	if err := res.WriteHTML(&html, "users", "prof"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`id="prof-stage-1"`, `id="prof-stage-2"`, `id="prof-diff"`} {
		if !strings.Contains(html.String(), id) {
			t.Errorf("report section lacks %s", id)
		}
	}
}

func TestStagesOfAGoServiceFetchHeap(t *testing.T) {
	base := pprofServer(t)
	spin(t)
	st, err := StartStages(context.Background(), Target{URL: base}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.End("only", 1); err != nil {
		t.Fatal(err)
	}
	res, err := st.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Heap == nil || len(res.Stages) != 1 {
		t.Fatalf("heap %v, %d stages", res.Heap != nil, len(res.Stages))
	}
	if _, err := ValueIndex(res.Heap, "inuse_space"); err != nil {
		t.Fatal(err)
	}
	if sum := res.Summary("users"); !regexp.MustCompile(`^[0-9.]+% of CPU is in \S`).MatchString(sum) {
		t.Errorf("summary = %q", sum)
	}
}

func TestExtremes(t *testing.T) {
	empty := synthetic(nil)
	a, b, c := synthetic(baseStacks), synthetic(newStacks), synthetic(baseStacks)
	for _, tc := range []struct {
		name         string
		stages       []StageProfile
		light, heavy string
		ok           bool
	}{
		{"two", []StageProfile{{"s1", 10, a}, {"s2", 100, b}}, "s1", "s2", true},
		{"reversed", []StageProfile{{"s1", 100, a}, {"s2", 10, b}}, "s2", "s1", true},
		{"middle", []StageProfile{{"s1", 50, a}, {"s2", 10, b}, {"s3", 90, c}}, "s2", "s3", true},
		{"empty stage ignored", []StageProfile{{"s1", 1, empty}, {"s2", 10, a}, {"s3", 20, b}}, "s2", "s3", true},
		{"one", []StageProfile{{"s1", 10, a}}, "", "", false},
		{"same load", []StageProfile{{"s1", 10, a}, {"s2", 10, b}}, "s1", "s1", false},
	} {
		l, h, ok := StageResult{Stages: tc.stages}.Extremes()
		if ok != tc.ok || (ok && (l.Name != tc.light || h.Name != tc.heavy)) {
			t.Errorf("%s: got %q %q %v, want %q %q %v", tc.name, l.Name, h.Name, ok, tc.light, tc.heavy, tc.ok)
		}
	}
	r := StageResult{Stages: []StageProfile{{"10 users", 10, a}, {"100 users", 100, b}}}
	if got := r.Summary("users"); got != "at 100 users, 48% of CPU is in json.Marshal, up from 12%" {
		t.Errorf("Summary = %q", got)
	}
	if got := (StageResult{}).Summary("users"); got != "no CPU samples were recorded" {
		t.Errorf("empty Summary = %q", got)
	}
}
