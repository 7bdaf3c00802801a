package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgeload/surge/internal/demo"
)

// TestRunProfilesEachStage loads the demo API in two stages while profiling
// it through its /debug/pprof endpoint: one CPU profile and flame graph per
// stage, a differential flame graph, and sentences in the summary.
func TestRunProfilesEachStage(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	dir := t.TempDir()
	code, out, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL+"/api/flaky", "--stage", "2s:2", "--stage", "2s:6",
		"--profile-url", srv.URL+"/debug/pprof", "--profile-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, f := range []string{"cpu-1-stage-1.pb.gz", "cpu-2-stage-2.pb.gz", "heap.pb.gz"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(out, "PROFILES") || !strings.Contains(out, "at 6 users, ") || !strings.Contains(out, "% of CPU is in") {
		t.Errorf("summary lacks the profile sentence:\n%s", out)
	}
	// the HTML report carries the flame graphs
	report := filepath.Join(dir, "r.html")
	code, out, stderr = runCLI(t, context.Background(), "run", "--url", srv.URL+"/api/flaky", "--stage", "1s:2", "--stage", "1s:4", "--no-save",
		"--profile-url", srv.URL+"/debug/pprof", "--profile-dir", dir, "--report", report)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "PROFILES") {
		t.Errorf("the report has no profile section: %v", err)
	}
}

func TestRunProfileUnreachable(t *testing.T) {
	srv := okServer(t)
	code, _, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-i", "1", "--profile-url", "http://127.0.0.1:1/debug/pprof")
	if code != ExitUsage || !strings.Contains(stderr, "profiling the target") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

// TestRunReportsSQLDuringTheTest runs a load whose server queries a real
// PostgreSQL, and checks that the statement appears in the summary's SQL
// section with its calls.
func TestRunReportsSQLDuringTheTest(t *testing.T) {
	dsn := dbTestDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	srv := httptest.NewServer(sqlHandler(t, dsn))
	defer srv.Close()
	code, out, stderr := runCLI(t, ctx, "run", "--url", srv.URL, "-u", "2", "-i", "40", "--pg", dsn, "--pg-explain")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "SQL DURING THE TEST") || !strings.Contains(out, "surge_attach_probe") {
		t.Errorf("summary lacks the SQL section with the probe query:\n%s", out)
	}
	code, _, stderr = runCLI(t, ctx, "run", "--url", srv.URL, "-i", "1", "--pg", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2")
	if code != ExitUsage || !strings.Contains(stderr, "--pg:") {
		t.Errorf("bad DSN: exit %d stderr %q", code, stderr)
	}
}

// TestDashboardShowsEachStageProfileLive: with --profile-url and
// --dashboard, a stage's flame graph reaches the dashboard when the stage
// ends, while the run goes on.
func TestDashboardShowsEachStageProfileLive(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	addr := dashFreeAddr(t)
	r := dashStart(t, addr, "--url", srv.URL+"/api/flaky", "--stage", "1s:2", "--stage", "3s:4",
		"--profile-url", srv.URL+"/debug/pprof", "--profile-dir", t.TempDir())
	var state struct {
		Attachments []struct {
			ID    int    `json:"id"`
			Title string `json:"title"`
			HTML  bool   `json:"html"`
		} `json:"attachments"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no stage profile on the dashboard during the run; last state %+v", state)
		}
		select {
		case <-r.done:
			t.Fatalf("the run ended (exit %d) before the dashboard showed a stage profile; last state %+v\n%s", r.code, state, r.err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/api/state")
		if err == nil {
			state.Attachments = nil
			_ = json.NewDecoder(resp.Body).Decode(&state)
			resp.Body.Close()
		}
		if len(state.Attachments) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	a := state.Attachments[0]
	if a.Title != "PROFILE OF STAGE 1" || !a.HTML {
		t.Fatalf("first live attachment %+v, want PROFILE OF STAGE 1 with a flame graph", a)
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/api/attachments/%d", addr, a.ID))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "live-stage-1") {
		t.Errorf("stage page lacks its flame graph:\n%.300s", body)
	}
	<-r.done
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
}
