package js

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/vu"
)

// Scenarios turns the script's options into engine scenarios. A non-nil
// override replaces them with one "default" scenario (command-line flags
// win over the script, as in k6). gracefulStop is the default for
// scenarios that set none.
func (s *Script) Scenarios(override engine.Executor, gracefulStop time.Duration) ([]*engine.Scenario, error) {
	o := s.Options
	if override == nil && s.hasShape {
		shape, err := s.shapeExecutor()
		if err != nil {
			return nil, err
		}
		override = shape
	}
	if override != nil || len(o.Scenarios) == 0 {
		exec := override
		if exec == nil {
			exec = o.ShortcutExecutor()
		}
		if !s.HasDefault() {
			return nil, &ScriptError{File: s.Path, Msg: "nothing to run: export a default function, Locust-style users, or options.scenarios"}
		}
		sc := &engine.Scenario{Name: "default", Executor: exec, GracefulStop: gracefulStop, Tags: o.Tags}
		sc.NewVU = s.NewVUFunc("default", nil, isClosed(exec))
		return []*engine.Scenario{sc}, nil
	}
	names := make([]string, 0, len(o.Scenarios))
	for n := range o.Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*engine.Scenario
	for _, name := range names {
		so := o.Scenarios[name]
		exec, err := so.executor()
		if err != nil {
			return nil, &ScriptError{File: s.Path, Msg: fmt.Sprintf("options.scenarios.%s: %v", name, err)}
		}
		fn := so.Exec
		if fn == "" {
			fn = "default"
		}
		if !s.exports[fn] && !(fn == "default" && len(s.users) > 0) {
			return nil, &ScriptError{File: s.Path, Msg: fmt.Sprintf("options.scenarios.%s: exec %q is not an exported function (exports: %v)", name, fn, s.Exports())}
		}
		tags := map[string]string{}
		for k, v := range o.Tags {
			tags[k] = v
		}
		for k, v := range so.Tags {
			tags[k] = v
		}
		sc := &engine.Scenario{Name: name, Executor: exec, StartTime: time.Duration(so.StartTime), GracefulStop: gracefulStop, Tags: tags}
		if so.GracefulStop != nil {
			sc.GracefulStop = time.Duration(*so.GracefulStop)
			if sc.GracefulStop == 0 {
				sc.GracefulStop = time.Nanosecond // zero means "none", not the default
			}
		}
		sc.NewVU = s.newVUFunc(fn, so.Env, isClosed(exec))
		out = append(out, sc)
	}
	return out, nil
}

func isClosed(e engine.Executor) bool {
	switch e.(type) {
	case engine.ConstantArrivalRate, engine.RampingArrivalRate:
		return false
	}
	return true
}

// NewVUFunc returns the engine's VU constructor for the exported function
// exec (default when empty), with extra __ENV entries.
func (s *Script) NewVUFunc(exec string, env map[string]string, closedModel bool) engine.NewVUFunc {
	if exec == "" {
		exec = "default"
	}
	return s.newVUFunc(exec, env, closedModel)
}

func (s *Script) newVUFunc(exec string, env map[string]string, closedModel bool) engine.NewVUFunc {
	return func(st *vu.State) (engine.VU, error) {
		v, err := s.newVU(context.Background(), st, env, false)
		if err != nil {
			return nil, err
		}
		if exec == "default" && len(s.users) > 0 && !s.exports["default"] {
			return v.newUser(closedModel)
		}
		fn, ok := sobek.AssertFunction(v.exports.Get(exec))
		if !ok {
			return nil, &ScriptError{File: s.Path, Msg: fmt.Sprintf("%q is not an exported function", exec)}
		}
		v.fn = fn
		return &iterVU{v}, nil
	}
}

// iterVU runs k6 iterations: the exec function with setup's data.
type iterVU struct{ *VU }

func (v *iterVU) RunIteration(ctx context.Context) error {
	v.setIteration(v.st.Iteration)
	v.http.Group = ""
	_, err := v.call(ctx, v.fn, v.setupData())
	return err
}
