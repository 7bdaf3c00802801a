package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/surgeload/surge"
	"github.com/surgeload/surge/internal/demo"
	"github.com/surgeload/surge/internal/result"
)

func init() {
	register(command{name: "demo", summary: "start the built-in demo API and load-test it (the one-command tour)", run: demoCmd})
}

func demoCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("demo")
	serve := fs.String("serve", "", "only serve the demo API on this address (e.g. 127.0.0.1:8000) until interrupted")
	vus := fs.Int("vus", 20, "peak virtual users")
	fs.IntVar(vus, "u", 20, "shorthand for --vus")
	dur := fs.Duration("duration", 10*time.Second, "test duration (ramp up a fifth, hold, ramp down a fifth)")
	fs.DurationVar(dur, "d", 10*time.Second, "shorthand for --duration")
	slow := fs.Duration("slow", 150*time.Millisecond, "how long /api/slow takes")
	flaky := fs.Float64("flaky", 0.2, "share of /api/flaky requests that fail")
	export := fs.String("summary-export", "", "write the k6-compatible JSON summary to this file")
	save := fs.String("save", ".surge/runs", "save the result to this directory, or this file if it ends in .json.gz")
	noSave := fs.Bool("no-save", false, "do not save the result")
	// surge run's flag, accepted alike; the demo's summary has no colors
	// (the Go API's surge.Run prints plain text), so there is nothing to turn off.
	fs.Bool("no-color", false, "no colors (also NO_COLOR)")
	reportPath := fs.String("report", "", "write the self-contained HTML report to this file")
	var outs listFlag
	fs.Var(&outs, "out", "stream results: json=FILE, csv=PREFIX, prometheus=ADDR, prometheus-rw=URL, otlp=URL, influxdb=URL (repeatable; docs/outputs.md)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *vus <= 0 || *dur <= 0 {
		return usageErrorf("--vus and --duration must be positive")
	}
	addr := *serve
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("starting the demo API: %w", err)
	}
	srv := &http.Server{Handler: demo.New(demo.Options{SlowDelay: *slow, FlakyShare: *flaky}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	if *serve != "" {
		fmt.Fprintf(stdout, "demo API on %s (POST /auth/login, GET|POST /api/items, GET /api/slow, GET /api/flaky, /debug/pprof/); Ctrl-C stops\n", base)
		<-ctx.Done()
		return nil
	}
	fmt.Fprintf(stdout, "surge demo: demo API on %s; %d users for %s (log in once, then list items 10:1 over creating, plus a slow and a flaky endpoint)\n", base, *vus, *dur)
	t := demo.Test(base, *vus, *dur)
	t.Output, t.SummaryExport, t.Out = stdout, *export, outs
	res, err := surge.Run(ctx, t)
	if err != nil {
		return err
	}
	if *reportPath != "" {
		if err := os.MkdirAll(filepath.Dir(*reportPath), 0o755); err != nil { // as --save does
			return fmt.Errorf("writing report: %w", err)
		}
		if err := res.WriteReport(*reportPath); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  report written to %s\n", *reportPath)
	}
	if !*noSave && *save != "" {
		path := *save
		if !strings.HasSuffix(path, ".json.gz") {
			path = result.DefaultPath(path, time.Now())
		}
		if err := res.Save(path); err != nil {
			fmt.Fprintf(stderr, "surge demo: warning: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "  result saved to %s (surge report / surge compare read it)\n", path)
		}
	}
	if !res.Passed() {
		return &silentError{code: ExitThresholdsFailed}
	}
	return nil
}
