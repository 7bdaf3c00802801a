package js

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/vu"
)

// DefaultInitTimeout bounds the init code of one VU (and setup), so that a
// script that loops forever in init fails instead of hanging the run.
const DefaultInitTimeout = 60 * time.Second

// Config is how a script is loaded.
type Config struct {
	Registry *metrics.Registry
	// Env is the script's __ENV (the process environment, by default).
	Env map[string]string
	// Stderr receives console output.
	Stderr io.Writer
	// HTTP is the base client configuration; the script's options
	// (discardResponseBodies, insecureSkipTLSVerify, userAgent) refine it.
	HTTP httpc.Config
	// InitTimeout bounds init code and setup (default DefaultInitTimeout).
	InitTimeout time.Duration
	// IncludeTags and ExcludeTags select Locust-style tasks by tag.
	IncludeTags, ExcludeTags []string
}

// Script is a compiled script and what its first init run found: its
// options, its exports and its user types. It is shared by all VUs.
type Script struct {
	Path    string
	Options Options
	cfg     Config
	prg     *sobek.Program
	dir     string

	files    sync.Map // open() cache: path → []byte
	sharedMu sync.Mutex
	shared   map[string][]string // SharedArray name → JSON elements

	// ctl is the controller runtime: options, setup, teardown and the
	// load shape run in it, one at a time.
	ctlMu sync.Mutex
	ctl   *VU

	setupJSON string
	remote    *RemoteSetup    // setup and teardown run elsewhere (a distributed run's master)
	exports   map[string]bool // exported functions
	users     []userDef       // Locust-style user types, in declaration order
	hasShape  bool
	allowed   atomic.Pointer[[]int] // user types the shape allows now; nil: all

	consoleMu sync.Mutex
	sql       sqlPools // surge/sql pools, shared by the VUs
}

// Load compiles the script at path and runs its init code once to read its
// options and exports.
func Load(ctx context.Context, path string, cfg Config) (*Script, error) {
	src, err := readScript(path)
	if err != nil {
		return nil, err
	}
	return LoadSource(ctx, path, src, cfg)
}

// LoadSource is Load with the source given.
func LoadSource(ctx context.Context, path string, src []byte, cfg Config) (*Script, error) {
	if cfg.Registry == nil {
		cfg.Registry = metrics.NewRegistry()
	}
	if cfg.Env == nil {
		cfg.Env = environ()
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	prg, err := compile(path, src)
	if err != nil {
		return nil, err
	}
	s := &Script{Path: path, cfg: cfg, prg: prg, dir: filepath.Dir(path), shared: map[string][]string{}}
	st := vu.New(cfg.Registry, 0, 0, "", cfg.Registry.Intern())
	ctl, err := s.newVU(ctx, st, nil, true)
	if err != nil {
		return nil, err
	}
	s.ctl = ctl
	if err := s.readExports(ctl); err != nil {
		return nil, err
	}
	return s, nil
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// readExports reads options, the exported functions and the user types
// from the controller's exports.
func (s *Script) readExports(ctl *VU) error {
	s.exports = map[string]bool{}
	for _, k := range ctl.exports.Keys() {
		if _, ok := sobek.AssertFunction(ctl.exports.Get(k)); ok {
			s.exports[k] = true
		}
	}
	if ov := ctl.exports.Get("options"); ov != nil && !sobek.IsUndefined(ov) && !sobek.IsNull(ov) {
		b, err := json.Marshal(ov.Export())
		if err != nil {
			return &ScriptError{File: s.Path, Msg: fmt.Sprintf("options: %v", err)}
		}
		if err := json.Unmarshal(b, &s.Options); err != nil {
			return &ScriptError{File: s.Path, Msg: fmt.Sprintf("options: %v", err)}
		}
	}
	users, err := ctl.parseUsers()
	if err != nil {
		return &ScriptError{File: s.Path, Msg: err.Error()}
	}
	s.users = users
	s.hasShape = s.exports["shape"]
	if s.hasShape && len(users) == 0 {
		return &ScriptError{File: s.Path, Msg: "a shape function needs Locust-style users (export const users = [...])"}
	}
	return nil
}

// HasUsers reports whether the script defines Locust-style users.
func (s *Script) HasUsers() bool { return len(s.users) > 0 }

// HasShape reports whether the script exports a load shape.
func (s *Script) HasShape() bool { return s.hasShape }

// HasDefault reports whether the script can run plain iterations: it
// exports default (or Locust-style users).
func (s *Script) HasDefault() bool { return s.exports["default"] || len(s.users) > 0 }

// Exports lists the exported function names, sorted.
func (s *Script) Exports() []string {
	var out []string
	for k := range s.exports {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Setup runs the script's setup() once, in the controller runtime, and
// keeps its result (as JSON) for every VU's iterations. With a
// RemoteSetup in ctx it runs nothing: the data comes from there.
func (s *Script) Setup(ctx context.Context) error {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if r := remoteSetupFrom(ctx); r != nil {
		s.remote = r
		return nil
	}
	if !s.exports["setup"] {
		return nil
	}
	ctl := s.ctl
	fn, _ := sobek.AssertFunction(ctl.exports.Get("setup"))
	limit := s.cfg.InitTimeout
	if d := time.Duration(s.Options.SetupTimeout); d > 0 {
		limit = d
	}
	v, err := ctl.inPhase("setup", func() (sobek.Value, error) { return ctl.callWithTimeout(ctx, limit, "setup", fn) })
	if err != nil {
		return s.phaseError("setup", err)
	}
	if v == nil || sobek.IsUndefined(v) {
		return nil
	}
	b, err := json.Marshal(v.Export())
	if err != nil {
		return &ScriptError{File: s.Path, Msg: fmt.Sprintf("setup() returned a value that is not JSON: %v", err)}
	}
	s.setupJSON = string(b)
	return nil
}

// SetupData is setup()'s result as JSON ("" when it returned undefined or
// did not run).
func (s *Script) SetupData() string {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	return s.setupJSON
}

// Teardown runs teardown(data) once, after the load; nothing when setup
// and teardown run elsewhere (a RemoteSetup).
func (s *Script) Teardown(ctx context.Context) error {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if !s.exports["teardown"] || s.remote != nil {
		return nil
	}
	ctl := s.ctl
	fn, _ := sobek.AssertFunction(ctl.exports.Get("teardown"))
	_, err := ctl.inPhase("teardown", func() (sobek.Value, error) {
		return ctl.callWithTimeout(ctx, s.cfg.InitTimeout, "teardown", fn, ctl.setupData())
	})
	if err != nil {
		return s.phaseError("teardown", err)
	}
	return nil
}

// phaseError turns an exception in init, setup or teardown into a
// ScriptError with the script position.
func (s *Script) phaseError(phase string, err error) error {
	var se *ScriptError
	if errors.As(err, &se) {
		return se
	}
	var ex *Exception
	if errors.As(err, &ex) {
		return &ScriptError{File: s.Path, Msg: fmt.Sprintf("%s: %s (at %s)", phase, ex.Msg, ex.Where)}
	}
	return &ScriptError{File: s.Path, Msg: fmt.Sprintf("%s: %v", phase, err)}
}

// console writes one console line to stderr.
func (s *Script) console(level, msg string) {
	s.consoleMu.Lock()
	defer s.consoleMu.Unlock()
	fmt.Fprintf(s.cfg.Stderr, "%s %s\n", level, msg)
}

// readFile reads a file for open(), relative to the script, once.
func (s *Script) readFile(name string) ([]byte, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.dir, p)
	}
	if b, ok := s.files.Load(p); ok {
		return b.([]byte), nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	s.files.Store(p, b)
	return b, nil
}
