package main

import (
	"context"
	"fmt"
	"time"

	"github.com/surgeload/surge/internal/dashboard"
	"github.com/surgeload/surge/internal/report"
)

func init() { startDashboard = serveDashboard }

// serveDashboard starts the live dashboard of surge run --dashboard and
// prints its URL. The server shuts down when the run has finished (after
// the open pages got the final state) or when ctx ends.
func serveDashboard(ctx context.Context, o dashboardOptions) (func(time.Time), func(*report.Summary), error) {
	srv, err := dashboard.Start(dashboard.Options{Addr: o.Addr, Token: o.Token, Registry: o.Registry, Control: o.Control, Config: o.Config})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(o.Stderr, "  dashboard: %s\n", srv.URL())
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	finish := func(sum *report.Summary) {
		stop()
		srv.Finish(sum)
	}
	return srv.Tick, finish, nil
}
