package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/surgeload/surge/internal/vu"
)

// VU is one virtual user. RunIteration runs one iteration; ctx is cancelled
// when the iteration must stop (graceful stop expired, run interrupted).
type VU interface {
	RunIteration(ctx context.Context) error
}

// Lifecycle is implemented by VUs with per-user set-up and tear-down
// (Locust's on_start and on_stop): Start runs when the user is activated,
// Stop when it is deactivated or the scenario ends.
type Lifecycle interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// NewVUFunc creates a VU for a scenario. It runs before the user's first
// iteration (k6's init context); an error stops the run.
type NewVUFunc func(st *vu.State) (VU, error)

// Scenario is one named workload with its executor.
type Scenario struct {
	Name         string
	Executor     Executor
	StartTime    time.Duration     // offset from the start of the run
	GracefulStop time.Duration     // how long running iterations may finish after the end (default 30s)
	Tags         map[string]string // added to every sample of the scenario
	NewVU        NewVUFunc
}

// DefaultGracefulStop is k6's default.
const DefaultGracefulStop = 30 * time.Second

// Stage is one leg of a ramp: reach Target over Duration.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// Executor is the schedule of a scenario. The concrete types below carry
// k6's parameters.
type Executor interface {
	// Name is k6's executor name ("constant-vus" …).
	Name() string
	// PeakVUs is the most VUs the executor may run at once.
	PeakVUs() int
	// Length is the scheduled length, without graceful stop.
	Length() time.Duration
	validate() error
}

// ConstantVUs runs VUs users looping for Duration.
type ConstantVUs struct {
	VUs      int
	Duration time.Duration
}

// RampingVUs moves the number of looping users through Stages.
type RampingVUs struct {
	StartVUs         int
	Stages           []Stage
	GracefulRampDown time.Duration // default 30s
}

// PerVUIterations has each of VUs users run Iterations iterations.
type PerVUIterations struct {
	VUs, Iterations int
	MaxDuration     time.Duration // default 10m
}

// SharedIterations has VUs users share Iterations iterations.
type SharedIterations struct {
	VUs, Iterations int
	MaxDuration     time.Duration // default 10m
}

// ConstantArrivalRate starts Rate iterations per TimeUnit for Duration
// (open model).
type ConstantArrivalRate struct {
	Rate            float64
	TimeUnit        time.Duration // default 1s
	Duration        time.Duration
	PreAllocatedVUs int
	MaxVUs          int // maxVUs; defaults to PreAllocatedVUs
}

// RampingArrivalRate moves the arrival rate through Stages (open model).
type RampingArrivalRate struct {
	StartRate       float64
	TimeUnit        time.Duration
	Stages          []Stage
	PreAllocatedVUs int
	MaxVUs          int
}

// ShapeTick is what a load shape returns for a moment of the run.
type ShapeTick struct {
	Users     int
	SpawnRate float64 // users started or stopped per second; 0 = at once
	Stop      bool    // end the scenario
}

// Shape is Locust's LoadTestShape: Tick is called once a second with the run
// time and says how many users there should be. MaxUsers bounds the VUs
// created.
type Shape struct {
	Tick     func(elapsed time.Duration) ShapeTick
	MaxUsers int
	// Limit ends the shape after this long even if Tick never stops (0 = 24h).
	Limit time.Duration
}

func (ConstantVUs) Name() string         { return "constant-vus" }
func (RampingVUs) Name() string          { return "ramping-vus" }
func (PerVUIterations) Name() string     { return "per-vu-iterations" }
func (SharedIterations) Name() string    { return "shared-iterations" }
func (ConstantArrivalRate) Name() string { return "constant-arrival-rate" }
func (RampingArrivalRate) Name() string  { return "ramping-arrival-rate" }
func (Shape) Name() string               { return "shape" }

func (e ConstantVUs) PeakVUs() int      { return e.VUs }
func (e PerVUIterations) PeakVUs() int  { return e.VUs }
func (e SharedIterations) PeakVUs() int { return e.VUs }
func (e Shape) PeakVUs() int            { return e.MaxUsers }
func (e RampingVUs) PeakVUs() int {
	m := e.StartVUs
	for _, s := range e.Stages {
		if int(s.Target) > m {
			m = int(s.Target)
		}
	}
	return m
}
func (e ConstantArrivalRate) PeakVUs() int { return max(e.MaxVUs, e.PreAllocatedVUs) }
func (e RampingArrivalRate) PeakVUs() int  { return max(e.MaxVUs, e.PreAllocatedVUs) }

func (e ConstantVUs) Length() time.Duration         { return e.Duration }
func (e RampingVUs) Length() time.Duration          { return stagesDuration(e.Stages) }
func (e PerVUIterations) Length() time.Duration     { return orDefault(e.MaxDuration, 10*time.Minute) }
func (e SharedIterations) Length() time.Duration    { return orDefault(e.MaxDuration, 10*time.Minute) }
func (e ConstantArrivalRate) Length() time.Duration { return e.Duration }
func (e RampingArrivalRate) Length() time.Duration  { return stagesDuration(e.Stages) }
func (e Shape) Length() time.Duration               { return orDefault(e.Limit, 24*time.Hour) }

func stagesDuration(st []Stage) time.Duration {
	var d time.Duration
	for _, s := range st {
		d += s.Duration
	}
	return d
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (e ConstantVUs) validate() error {
	if e.VUs <= 0 {
		return errors.New("vus must be at least 1")
	}
	if e.Duration <= 0 {
		return errors.New("duration must be positive")
	}
	return nil
}

func (e RampingVUs) validate() error {
	if len(e.Stages) == 0 {
		return errors.New("ramping-vus needs at least one stage")
	}
	return validStages(e.Stages)
}

func (e PerVUIterations) validate() error {
	if e.VUs <= 0 || e.Iterations <= 0 {
		return errors.New("vus and iterations must be at least 1")
	}
	return nil
}

func (e SharedIterations) validate() error {
	if e.VUs <= 0 || e.Iterations <= 0 {
		return errors.New("vus and iterations must be at least 1")
	}
	return nil
}

func (e ConstantArrivalRate) validate() error {
	if e.Rate <= 0 {
		return errors.New("rate must be positive")
	}
	if e.Duration <= 0 {
		return errors.New("an arrival rate needs a duration")
	}
	if e.PeakVUs() <= 0 {
		return errors.New("preAllocatedVUs or maxVUs must be at least 1")
	}
	return nil
}

func (e RampingArrivalRate) validate() error {
	if len(e.Stages) == 0 {
		return errors.New("ramping-arrival-rate needs at least one stage")
	}
	if e.PeakVUs() <= 0 {
		return errors.New("preAllocatedVUs or maxVUs must be at least 1")
	}
	return validStages(e.Stages)
}

func (e Shape) validate() error {
	if e.Tick == nil {
		return errors.New("a shape needs a tick function")
	}
	if e.MaxUsers <= 0 {
		return errors.New("a shape needs a positive maximum number of users")
	}
	return nil
}

func validStages(st []Stage) error {
	for i, s := range st {
		if s.Duration < 0 {
			return fmt.Errorf("stage %d: negative duration", i+1)
		}
		if s.Target < 0 {
			return fmt.Errorf("stage %d: negative target", i+1)
		}
	}
	return nil
}
