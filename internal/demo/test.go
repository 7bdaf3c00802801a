package demo

import (
	"errors"
	"time"

	"github.com/surgeload/surge"
)

// Test is the load test surge demo runs against a demo server at base: the
// original brief's locustfile in Go — each user logs in once, then lists
// items ten times as often as it creates one, with a slow and a flaky
// endpoint in the mix.
func Test(base string, vus int, d time.Duration) surge.Test {
	return surge.Test{
		Scenarios: []surge.Scenario{{
			Name:     "api",
			Executor: surge.RampingVUs{Stages: []surge.Stage{{Duration: d / 5, Target: float64(vus)}, {Duration: d * 3 / 5, Target: float64(vus)}, {Duration: d / 5, Target: 0}}, GracefulRampDown: time.Second},
			Users: []surge.User{{
				Name:    "api_user",
				Host:    base,
				Wait:    surge.Between(50*time.Millisecond, 150*time.Millisecond),
				OnStart: login,
				Tasks: []surge.Task{
					{Name: "list_items", Weight: 10, Tags: []string{"read"}, Fn: listItems},
					{Name: "create_item", Weight: 1, Tags: []string{"write"}, Fn: createItem},
					{Name: "slow", Weight: 1, Tags: []string{"read"}, Fn: func(v *surge.VU) error {
						v.Get("/api/slow", surge.Name("/api/slow"))
						return nil
					}},
					{Name: "flaky", Weight: 2, Tags: []string{"read"}, Fn: func(v *surge.VU) error {
						r := v.Get("/api/flaky", surge.Name("/api/flaky"))
						v.Check("flaky answered 200", r.Status == 200)
						return nil
					}},
				},
			}},
		}},
		Thresholds: map[string][]string{
			"http_req_duration{name:/api/items}": {"p(95)<300"},
			"http_req_failed":                    {"rate<0.10"},
		},
	}
}

func login(v *surge.VU) error {
	r := v.PostJSON("/auth/login", map[string]string{"username": "loadtest", "password": "secret"}, surge.Name("/auth/login"))
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := r.JSON(&body); err != nil {
		return err
	}
	if body.AccessToken == "" {
		return errors.New("login returned no access_token")
	}
	v.Data["token"] = body.AccessToken
	return nil
}

func token(v *surge.VU) string { s, _ := v.Data["token"].(string); return s }

func listItems(v *surge.VU) error {
	r := v.Get("/api/items", surge.Bearer(token(v)), surge.Name("/api/items"))
	var items []Item
	ok := r.Status == 200 && r.JSON(&items) == nil && len(items) > 0
	v.Check("items listed", ok)
	return nil
}

func createItem(v *surge.VU) error {
	r := v.PostJSON("/api/items", map[string]any{"name": "load-test-item", "value": 42}, surge.Bearer(token(v)), surge.Name("/api/items"))
	v.Check("item created", r.Status == 201)
	return nil
}
