// Command goapi is the original brief's locustfile written with surge's Go
// API: each user logs in once and keeps its token, then lists items ten
// times as often as it creates one, with thresholds that fail the run.
//
//	go run ./examples/goapi -host http://127.0.0.1:8000   # against `surge demo --serve 127.0.0.1:8000`
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/surgeload/surge"
)

func main() {
	host := flag.String("host", "http://127.0.0.1:8000", "base URL of the API under test")
	d := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	res, err := run(context.Background(), *host, *d, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goapi:", err)
		os.Exit(1)
	}
	if !res.Passed() {
		os.Exit(99)
	}
}

// run is the whole test; main_test.go runs it against the demo API.
func run(ctx context.Context, host string, d time.Duration, out io.Writer) (*surge.Result, error) {
	errors := surge.NewRate("errors")
	listItems := func(v *surge.VU) error {
		r := v.Get("/api/items", surge.Bearer(v.Data["token"].(string)), surge.Name("/api/items"))
		var items []map[string]any
		ok := v.Check("status is 200", r.Status == 200) &&
			v.Check("body has items", r.JSON(&items) == nil && len(items) > 0)
		v.Add(errors, b2f(!ok))
		return nil
	}
	createItem := func(v *surge.VU) error {
		v.PostJSON("/api/items", map[string]any{"name": "load-test-item", "value": 42},
			surge.Bearer(v.Data["token"].(string)), surge.Name("/api/items"))
		return nil
	}
	login := func(v *surge.VU) error {
		r := v.PostJSON("/auth/login", map[string]string{"username": "loadtest", "password": "secret"})
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := r.JSON(&body); err != nil {
			return err
		}
		v.Data["token"] = body.AccessToken
		return nil
	}
	return surge.Run(ctx, surge.Test{
		Scenarios: []surge.Scenario{{
			Executor: surge.RampingVUs{Stages: []surge.Stage{
				{Duration: d / 4, Target: 10}, {Duration: d / 2, Target: 10}, {Duration: d / 4, Target: 0},
			}},
			Users: []surge.User{{
				Host:    host,
				Wait:    surge.Between(10*time.Millisecond, 30*time.Millisecond),
				OnStart: login,
				Tasks: []surge.Task{
					{Name: "list_items", Weight: 10, Tags: []string{"read"}, Fn: listItems},
					{Name: "create_item", Weight: 1, Tags: []string{"write"}, Fn: createItem},
				},
			}},
		}},
		Thresholds: map[string][]string{
			"http_req_duration": {"p(95)<500", "p(99)<1000"},
			"errors":            {"rate<0.01"},
		},
		Output: out,
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
