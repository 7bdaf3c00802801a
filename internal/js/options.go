package js

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
)

// Options are the script's exported options, in k6's shape.
type Options struct {
	VUs                   int                         `json:"vus"`
	Duration              Duration                    `json:"duration"`
	Iterations            int                         `json:"iterations"`
	Stages                []StageOption               `json:"stages"`
	Scenarios             map[string]ScenarioOption   `json:"scenarios"`
	Thresholds            map[string]ThresholdOptions `json:"thresholds"`
	SummaryTrendStats     []string                    `json:"summaryTrendStats"`
	DiscardResponseBodies bool                        `json:"discardResponseBodies"`
	InsecureSkipTLSVerify bool                        `json:"insecureSkipTLSVerify"`
	UserAgent             string                      `json:"userAgent"`
	Tags                  map[string]string           `json:"tags"`
	SetupTimeout          Duration                    `json:"setupTimeout"`
	// Batch and BatchPerHost bound the requests of one http.batch call in
	// flight at once, in all and to one host (k6's defaults: 20 and 6;
	// 0 means no bound).
	Batch        *int `json:"batch"`
	BatchPerHost *int `json:"batchPerHost"`
}

// StageOption is one stage: {duration: "30s", target: 20}.
type StageOption struct {
	Duration Duration `json:"duration"`
	Target   float64  `json:"target"`
}

// ScenarioOption is one entry of options.scenarios.
type ScenarioOption struct {
	Executor         string            `json:"executor"`
	Exec             string            `json:"exec"`
	StartTime        Duration          `json:"startTime"`
	GracefulStop     *Duration         `json:"gracefulStop"`
	Env              map[string]string `json:"env"`
	Tags             map[string]string `json:"tags"`
	VUs              int               `json:"vus"`
	Duration         Duration          `json:"duration"`
	Iterations       int               `json:"iterations"`
	MaxDuration      Duration          `json:"maxDuration"`
	StartVUs         *int              `json:"startVUs"`
	Stages           []StageOption     `json:"stages"`
	GracefulRampDown *Duration         `json:"gracefulRampDown"`
	Rate             float64           `json:"rate"`
	StartRate        float64           `json:"startRate"`
	TimeUnit         Duration          `json:"timeUnit"`
	PreAllocatedVUs  int               `json:"preAllocatedVUs"`
	MaxVUs           int               `json:"maxVUs"`
}

// ThresholdOptions are the expressions of one metric: strings or
// {threshold, abortOnFail, delayAbortEval} objects.
type ThresholdOptions []ThresholdOption

// ThresholdOption is one threshold expression.
type ThresholdOption struct {
	Threshold      string   `json:"threshold"`
	AbortOnFail    bool     `json:"abortOnFail"`
	DelayAbortEval Duration `json:"delayAbortEval"`
}

func (t *ThresholdOptions) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var one json.RawMessage = b
		raw = []json.RawMessage{one}
	}
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			*t = append(*t, ThresholdOption{Threshold: s})
			continue
		}
		var o ThresholdOption
		if err := json.Unmarshal(r, &o); err != nil {
			return fmt.Errorf("threshold %s: want a string or {threshold, abortOnFail, delayAbortEval}", r)
		}
		*t = append(*t, o)
	}
	return nil
}

// Duration is a k6 duration: "30s", "1m30s", "1h", or a number of
// milliseconds.
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	v, err := parseDurationValue(x)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func parseDurationValue(x any) (time.Duration, error) {
	switch v := x.(type) {
	case nil:
		return 0, nil
	case float64:
		return time.Duration(v * float64(time.Millisecond)), nil
	case int64:
		return time.Duration(v) * time.Millisecond, nil
	case string:
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return time.Duration(n * float64(time.Millisecond)), nil
		}
		if strings.HasSuffix(v, "d") {
			n, err := strconv.ParseFloat(strings.TrimSuffix(v, "d"), 64)
			if err == nil {
				return time.Duration(n * 24 * float64(time.Hour)), nil
			}
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q (e.g. 30s, 1m30s, 2h)", v)
		}
		return d, nil
	}
	return 0, fmt.Errorf("bad duration %v", x)
}

func stages(st []StageOption) []engine.Stage {
	out := make([]engine.Stage, len(st))
	for i, s := range st {
		out[i] = engine.Stage{Duration: time.Duration(s.Duration), Target: s.Target}
	}
	return out
}

// Thresholds parses options.thresholds.
func (o *Options) ThresholdList() ([]*metrics.Threshold, error) {
	sels := make([]string, 0, len(o.Thresholds))
	for k := range o.Thresholds {
		sels = append(sels, k)
	}
	sort.Strings(sels)
	var out []*metrics.Threshold
	for _, sel := range sels {
		for _, t := range o.Thresholds[sel] {
			th, err := metrics.ParseThreshold(sel, t.Threshold)
			if err != nil {
				return nil, fmt.Errorf("options.thresholds: %w", err)
			}
			th.AbortOnFail, th.DelayAbortEval = t.AbortOnFail, time.Duration(t.DelayAbortEval)
			out = append(out, th)
		}
	}
	return out, nil
}

// ShortcutExecutor is the executor of k6's shortcut options (vus,
// duration, iterations, stages), or nil when options.scenarios is used.
func (o *Options) ShortcutExecutor() engine.Executor {
	vus := max(o.VUs, 1)
	switch {
	case len(o.Stages) > 0:
		return engine.RampingVUs{StartVUs: vus, Stages: stages(o.Stages)}
	case o.Iterations > 0:
		return engine.SharedIterations{VUs: vus, Iterations: o.Iterations, MaxDuration: time.Duration(o.Duration)}
	case o.Duration > 0:
		return engine.ConstantVUs{VUs: vus, Duration: time.Duration(o.Duration)}
	}
	return engine.SharedIterations{VUs: vus, Iterations: vus}
}

// executor builds one scenario's executor.
func (sc ScenarioOption) executor() (engine.Executor, error) {
	if sc.TimeUnit < 0 && strings.HasSuffix(sc.Executor, "arrival-rate") {
		return nil, fmt.Errorf("timeUnit %s: want a positive duration, such as \"1s\" or \"1m\" (the rate is iterations per timeUnit)", time.Duration(sc.TimeUnit))
	}
	switch sc.Executor {
	case "constant-vus":
		return engine.ConstantVUs{VUs: max(sc.VUs, 1), Duration: time.Duration(sc.Duration)}, nil
	case "ramping-vus":
		start := 1
		if sc.StartVUs != nil {
			start = *sc.StartVUs
		}
		e := engine.RampingVUs{StartVUs: start, Stages: stages(sc.Stages), GracefulRampDown: engine.DefaultGracefulStop}
		if sc.GracefulRampDown != nil {
			e.GracefulRampDown = time.Duration(*sc.GracefulRampDown)
		}
		return e, nil
	case "per-vu-iterations":
		return engine.PerVUIterations{VUs: max(sc.VUs, 1), Iterations: max(sc.Iterations, 1), MaxDuration: time.Duration(sc.MaxDuration)}, nil
	case "shared-iterations":
		return engine.SharedIterations{VUs: max(sc.VUs, 1), Iterations: max(sc.Iterations, 1), MaxDuration: time.Duration(sc.MaxDuration)}, nil
	case "constant-arrival-rate":
		return engine.ConstantArrivalRate{Rate: sc.Rate, TimeUnit: time.Duration(sc.TimeUnit), Duration: time.Duration(sc.Duration),
			PreAllocatedVUs: sc.PreAllocatedVUs, MaxVUs: sc.MaxVUs}, nil
	case "ramping-arrival-rate":
		return engine.RampingArrivalRate{StartRate: sc.StartRate, TimeUnit: time.Duration(sc.TimeUnit), Stages: stages(sc.Stages),
			PreAllocatedVUs: sc.PreAllocatedVUs, MaxVUs: sc.MaxVUs}, nil
	case "":
		return nil, fmt.Errorf("no executor (use constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate or ramping-arrival-rate)")
	}
	return nil, fmt.Errorf("unknown executor %q (use constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate or ramping-arrival-rate)", sc.Executor)
}
