package js

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// TestLocustUsersReportTheirClass: the dashboard's user mix counts
// Locust-style users by class (engine.Classed): 1 fixed Admin, then 3:1
// Readers to Writers among the other five.
func TestLocustUsersReportTheirClass(t *testing.T) {
	a := newAPI(t)
	src := `import { constant } from "surge/locust";
const host = __ENV.HOST;
export const users = [
  { name: "Reader", weight: 3, host, wait: constant(0.02), tasks: [function read(u) { u.client.get("/api/items?anon=1"); }] },
  { name: "Writer", weight: 1, host, wait: constant(0.02), tasks: [function write(u) { u.client.post("/api/items", { json: {} }); }] },
  { name: "Admin", fixedCount: 1, host, wait: constant(0.02), tasks: [function admin(u) { u.client.get("/echo"); }] },
];`
	reg := metrics.NewRegistry()
	s, err := load(t, "mix.js", src, Config{Env: map[string]string{"HOST": a.srv.URL}, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	scens, err := s.Scenarios(engine.ConstantVUs{VUs: 6, Duration: 800 * time.Millisecond}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctl := engine.NewControl()
	var mixes [][]engine.ScenarioUsers
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := engine.Run(ctx, engine.Options{Registry: reg, Scenarios: scens, Control: ctl, TickInterval: 100 * time.Millisecond,
		OnTick: func(time.Time) { mixes = append(mixes, ctl.UserMix()) }}); err != nil {
		t.Fatal(err)
	}
	want := []engine.ClassUsers{
		{UserClass: engine.UserClass{Name: "Admin", FixedCount: 1}, Users: 1},
		{UserClass: engine.UserClass{Name: "Reader", Weight: 3}, Users: 4},
		{UserClass: engine.UserClass{Name: "Writer", Weight: 1}, Users: 1},
	}
	for _, m := range mixes {
		if len(m) == 1 && m[0].Users == 6 && reflect.DeepEqual(m[0].Classes, want) {
			return
		}
	}
	t.Fatalf("no tick had the classes %+v; ticks: %+v", want, mixes)
}
