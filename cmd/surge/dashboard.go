package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/surgeload/surge/internal/cluster"
	"github.com/surgeload/surge/internal/dashboard"
	"github.com/surgeload/surge/internal/htmlreport"
	"github.com/surgeload/surge/internal/report"
)

func init() { startDashboard = serveDashboard }

// keepEnv keeps the dashboard up after the run when --dashboard-keep is
// not given.
const keepEnv = "SURGE_DASHBOARD_KEEP"

// serveDashboard starts the live dashboard of surge run --dashboard and
// prints its URL. The server shuts down when the run has finished (after
// the open pages got the final state) or when ctx ends. With
// SURGE_DASHBOARD_KEEP set it stays up after a run that has results, as
// Locust's web UI does, and finish returns only when it closes: after
// the duration given, or at Ctrl-C (ctx).
func serveDashboard(ctx context.Context, o dashboardOptions) (func(time.Time), func(*report.Summary), error) {
	keep, err := parseKeep(cmp.Or(o.Keep, os.Getenv(keepEnv)))
	if err != nil {
		return nil, nil, err
	}
	var stopRun func() // nil: the Control's Stop
	if o.Workers != nil {
		stopRun = o.Workers.stop
	}
	srv, err := dashboard.Start(dashboard.Options{Addr: o.Addr, Token: o.Token, Registry: o.Registry, Control: o.Control,
		Stop: stopRun, Config: o.Config, Linger: keep, Report: dashboardReport(o), Distributed: o.Workers != nil})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(o.Stderr, "  dashboard: %s\n", srv.URL())
	if o.Attach != nil {
		o.Attach.OnStage = srv.Attach
	}
	if o.Workers != nil {
		o.Workers.show = func(now time.Time, ws []cluster.WorkerView) { srv.SetWorkers(workerRows(ws, now)) }
	}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	finish := func(sum *report.Summary) {
		if keep == 0 || sum == nil || ctx.Err() != nil { // a failed run, or Ctrl-C already closed it
			stop()
			srv.Finish(sum)
			srv.Close()
			return
		}
		srv.Finish(sum)
		until := "until Ctrl-C"
		if keep > 0 {
			until = "for " + keep.String() + " (or until Ctrl-C)"
		}
		fmt.Fprintf(o.Stderr, "  dashboard: the run has finished; still serving %s %s\n", srv.URL(), until)
		<-srv.Done() // closed by the linger's end or by ctx (Ctrl-C)
		stop()
	}
	return srv.Tick, finish, nil
}

// parseKeep reads SURGE_DASHBOARD_KEEP: a duration ("10m") keeps the
// dashboard that long after the run, a true value ("1", "true") until
// Ctrl-C, and empty or a false value not at all.
func parseKeep(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	if b, err := strconv.ParseBool(v); err == nil {
		if b {
			return dashboard.KeepUntilClosed, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("--dashboard-keep (or %s) %q: want a duration such as 10m, or true (until Ctrl-C) or false", keepEnv, v)
}

// dashboardReport renders the HTML report of the finished run for the
// dashboard's download link, as --report would write it.
func dashboardReport(o dashboardOptions) func(io.Writer, *report.Summary) error {
	return func(w io.Writer, sum *report.Summary) error {
		ro := reportOptions(sum, nil)
		for k, v := range o.Config {
			ro.Config[k] = v
		}
		return htmlreport.Write(w, sum, o.Registry, ro)
	}
}

// workerRows turns the master's per-worker view into the Workers tab's
// rows, with heartbeat ages as of now.
func workerRows(ws []cluster.WorkerView, now time.Time) []dashboard.WorkerRow {
	rows := make([]dashboard.WorkerRow, 0, len(ws))
	for _, w := range ws {
		rows = append(rows, dashboard.WorkerRow{Name: w.Name, Addr: w.Addr, State: w.State,
			Users: w.Users, RPS: w.LastRPS, AvgRPS: w.RPS, CPU: 100 * w.CPU, Requests: w.Requests,
			HeartbeatAge: max(now.Sub(w.LastHeartbeat), 0).Seconds(), LastHeartbeat: w.LastHeartbeat,
			LostAt: w.LostAt.Seconds(), Segments: w.Segments})
	}
	return rows
}
