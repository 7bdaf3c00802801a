package htmlreport

import (
	"math/rand/v2"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

var testStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// endpoint is one request name of a synthetic run.
type endpoint struct {
	method, name string
	perSec       int
	baseMs       float64
	failEvery    int // every n-th request fails; 0 never
}

var endpoints = []endpoint{
	{"GET", "/api/users", 20, 12, 0},
	{"POST", "/api/orders", 8, 45, 10},
	{"GET", "/static/app.js", 5, 2, 0},
}

// syntheticRun records a run of the given length into a real registry,
// ticking it with fake one-second times, and builds its summary. spikeAt is
// a second whose /api/orders latencies are 50× slower (-1 for none). Runs
// longer than a minute record two requests per endpoint and second, which
// keeps the size tests fast under -race; the series shape is the same.
func syntheticRun(seconds int, warmup time.Duration, spikeAt int) (*report.Summary, *metrics.Registry) {
	reg := metrics.NewRegistry()
	reg.Start(testStart, warmup)
	b := reg.Builtin
	rng := rand.New(rand.NewPCG(1, 2))
	vuTags := reg.Intern()
	checkOK := reg.Intern(metrics.Tag{Key: "check", Value: "status is 200"})
	n := 0
	for sec := 0; sec < seconds; sec++ {
		sh := reg.Shard(sec)
		reg.Set(b.VUs, vuTags, float64(min(sec+1, 10)))
		for _, e := range endpoints {
			perSec := e.perSec
			if seconds > 60 {
				perSec = 2
			}
			for i := 0; i < perSec; i++ {
				n++
				failed := e.failEvery > 0 && n%e.failEvery == 0
				status, exp := "200", "true"
				if failed {
					status, exp = "500", "false"
				}
				ts := reg.Intern(metrics.Tag{Key: "method", Value: e.method}, metrics.Tag{Key: "name", Value: e.name},
					metrics.Tag{Key: "status", Value: status}, metrics.Tag{Key: "expected_response", Value: exp})
				d := e.baseMs * (0.5 + rng.ExpFloat64())
				if sec == spikeAt && e.name == "/api/orders" {
					d *= 50
				}
				sh.Add(b.HTTPReqs, ts, 1)
				sh.Add(b.HTTPReqDuration, ts, d)
				sh.Add(b.HTTPReqFailed, ts, boolf(failed))
				sh.Add(b.Checks, checkOK, boolf(!failed))
				sh.Add(b.DataReceived, ts, 512)
				if failed {
					reg.Errors.Add("request", "HTTP 500 Internal Server Error", e.name)
				}
			}
		}
		sh.Add(b.Iterations, vuTags, 1)
		reg.Tick(testStart.Add(time.Duration(sec)*time.Second + 500*time.Millisecond))
	}
	end := testStart.Add(time.Duration(seconds) * time.Second)
	reg.Tick(end)
	th, err := metrics.ParseThresholdFlag("http_req_duration: p(95)<500")
	if err != nil {
		panic(err) // a constant that parses
	}
	res := &engine.Result{Start: testStart, End: end, Iterations: int64(seconds),
		Thresholds: []engine.ThresholdResult{{Threshold: th, Observed: 120, Pass: true}}}
	return report.Build(reg, res, nil), reg
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// fixedOptions make the output independent of the machine and the clock.
func fixedOptions() Options {
	return Options{
		Config: map[string]string{"vus": "10", "duration": "20s", "warmup": "3s", "threshold": "http_req_duration: p(95)<500"},
		Env:    Environment{Version: "1.2.3-test", Hostname: "build-host", GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26", CPUs: 4},
	}
}
