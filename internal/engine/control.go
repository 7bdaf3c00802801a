package engine

import (
	"context"
	"sync"
	"time"
)

// Control steers a running test from outside, as Locust's web UI does:
// change the number of users and the spawn rate, or stop. A target set
// here overrides the ramp or shape of every ramping-vus and shape scenario
// until the scenario ends; other executors keep their schedule. It also
// reports the current user mix back (UserMix).
type Control struct {
	mu        sync.Mutex
	set       bool
	users     int
	spawnRate float64
	stop      context.CancelFunc
	stopped   bool
	mix       []ScenarioUsers
	marks     []time.Duration // StageMarks of the run
}

// NewControl returns a Control to pass in Options.
func NewControl() *Control { return &Control{} }

// SetUsers overrides the target number of users; spawnRate is users started
// or stopped per second (0: at once).
func (c *Control) SetUsers(users int, spawnRate float64) {
	c.mu.Lock()
	c.set, c.users, c.spawnRate = true, max(users, 0), spawnRate
	c.mu.Unlock()
}

// Stop ends the run gracefully, as Ctrl-C does.
func (c *Control) Stop() {
	c.mu.Lock()
	stop := c.stop
	c.stopped = true
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Stopped reports whether Stop was called.
func (c *Control) Stopped() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// UserMix is the current user mix (users per scenario and per user
// class) as of the last registry tick; nil before the run starts.
func (c *Control) UserMix() []ScenarioUsers {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mix
}

// setMix is called by the engine before each tick's OnTick, so a dashboard
// reading UserMix from OnTick sees the same moment as the vus gauge.
func (c *Control) setMix(m []ScenarioUsers) {
	c.mu.Lock()
	c.mix = m
	c.mu.Unlock()
}

func (c *Control) attach(cancel context.CancelFunc, marks []time.Duration) {
	c.mu.Lock()
	c.stop, c.marks = cancel, marks
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		cancel()
	}
}

// override returns the steered target, if one was set.
func (c *Control) override() (users int, rate float64, ok bool) {
	if c == nil {
		return 0, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.users, c.spawnRate, c.set
}

// steered wraps a target function with the control's override.
func (c *Control) steered(f targetFunc, maxUsers func() int) targetFunc {
	return func(t time.Duration) (int, float64, bool) {
		users, rate, stop := f(t)
		if u, r, ok := c.override(); ok {
			return min(u, maxUsers()), r, stop
		}
		return users, rate, stop
	}
}
