package js

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/grafana/sobek"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/protocol/httpc"
	"github.com/surgeload/surge/internal/protocol/httpvu"
)

// Locust-style users. A script exports
//
//	export const users = [{ name, weight, fixedCount, host, wait, onStart,
//	    onStop, sequential, tasks: [{ name, weight, tags, fn }] }]
//
// and optionally a load shape, export function shape(t) returning
// {users, spawnRate, userClasses} (or [users, spawnRate]) or null to stop.
// Each VU is one user instance: onStart(u) runs when the user starts, then
// each iteration runs one task picked by weight (or in order), then waits.

// userDef is a user type as read from the controller's exports: what does
// not depend on a runtime.
type userDef struct {
	name       string
	weight     int
	fixedCount int
	host       string
	sequential bool
	tasks      []taskDef
	selected   []int // indexes of the tasks kept by --include-tag/--exclude-tag
	total      int   // sum of the selected tasks' weights
}

type taskDef struct {
	name   string
	weight int
	tags   []string
}

// waitSpec is what between(), constant() … return.
type waitSpec struct {
	kind     string
	min, max float64 // seconds; for constantThroughput, min is the rate
}

// locustModule is surge/locust: the wait-time helpers.
func (v *VU) locustModule() *sobek.Object {
	mk := func(kind string) func(a, b float64) sobek.Value {
		return func(a, b float64) sobek.Value {
			if a < 0 || b < 0 {
				v.throw("%s: negative time", kind)
			}
			return v.rt.ToValue(&waitSpec{kind: kind, min: a, max: b})
		}
	}
	return v.object(map[string]any{
		"between": mk("between"), "constant": mk("constant"),
		"constantPacing": mk("constantPacing"), "constantThroughput": mk("constantThroughput"),
	})
}

// waitFor returns how long to wait after a task that took took.
func (w *waitSpec) waitFor(took time.Duration) time.Duration {
	sec := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	switch w.kind {
	case "between":
		lo, hi := sec(w.min), sec(w.max)
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rand.Int64N(int64(hi-lo)+1))
	case "constant":
		return sec(w.min)
	case "constantPacing":
		return max(sec(w.min)-took, 0)
	case "constantThroughput":
		if w.min <= 0 {
			return 0
		}
		return max(time.Duration(float64(time.Second)/w.min)-took, 0)
	}
	return 0
}

// usersArray returns exports.users as objects.
func (v *VU) usersArray() ([]*sobek.Object, error) {
	uv := v.exports.Get("users")
	if uv == nil || sobek.IsUndefined(uv) || sobek.IsNull(uv) {
		return nil, nil
	}
	uo, ok := uv.(*sobek.Object)
	if !ok || uo.ClassName() != "Array" {
		return nil, fmt.Errorf("users must be an array of user types")
	}
	n := int(uo.Get("length").ToInteger())
	out := make([]*sobek.Object, n)
	for i := range n {
		o, ok := uo.Get(fmt.Sprint(i)).(*sobek.Object)
		if !ok {
			return nil, fmt.Errorf("users[%d] is not an object", i)
		}
		out[i] = o
	}
	return out, nil
}

func getString(o *sobek.Object, k, def string) string {
	if x := o.Get(k); x != nil && !sobek.IsUndefined(x) && !sobek.IsNull(x) {
		return x.String()
	}
	return def
}

func getInt(o *sobek.Object, k string, def int) int {
	if x := o.Get(k); x != nil && !sobek.IsUndefined(x) && !sobek.IsNull(x) {
		return int(x.ToInteger())
	}
	return def
}

// parseUsers reads the user types (controller only) and applies tag
// selection.
func (v *VU) parseUsers() ([]userDef, error) {
	objs, err := v.usersArray()
	if err != nil {
		return nil, err
	}
	var defs []userDef
	for i, o := range objs {
		d := userDef{
			name: getString(o, "name", fmt.Sprintf("User%d", i+1)), weight: getInt(o, "weight", 1),
			fixedCount: getInt(o, "fixedCount", 0), host: getString(o, "host", ""),
			sequential: o.Get("sequential") != nil && o.Get("sequential").ToBoolean(),
		}
		if d.weight <= 0 {
			d.weight = 1
		}
		if w := o.Get("wait"); w != nil && !sobek.IsUndefined(w) {
			if _, ok := w.Export().(*waitSpec); !ok {
				if _, isFn := sobek.AssertFunction(w); !isFn {
					return nil, fmt.Errorf("user %q: wait must be between(a, b), constant(s), constantPacing(s), constantThroughput(r) or a function", d.name)
				}
			}
		}
		tasks, err := v.taskObjects(o, d.name)
		if err != nil {
			return nil, err
		}
		if len(tasks) == 0 {
			return nil, fmt.Errorf("user %q has no tasks", d.name)
		}
		for j, t := range tasks {
			td := taskDef{name: getString(t, "name", ""), weight: getInt(t, "weight", 1)}
			if td.name == "" {
				if fo, ok := t.Get("fn").(*sobek.Object); ok {
					td.name = getString(fo, "name", "")
				}
			}
			if td.name == "" {
				td.name = fmt.Sprintf("task%d", j+1)
			}
			if td.weight <= 0 {
				td.weight = 1
			}
			if tv := t.Get("tags"); tv != nil && !sobek.IsUndefined(tv) {
				if err := v.rt.ExportTo(tv, &td.tags); err != nil {
					return nil, fmt.Errorf("user %q task %q: tags must be an array of strings", d.name, td.name)
				}
			}
			d.tasks = append(d.tasks, td)
			if selected(td.tags, v.s.cfg.IncludeTags, v.s.cfg.ExcludeTags) {
				d.selected = append(d.selected, j)
				d.total += td.weight
			}
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// taskObjects returns a user type's tasks: objects with fn, or bare
// functions (named by the function).
func (v *VU) taskObjects(o *sobek.Object, user string) ([]*sobek.Object, error) {
	tv := o.Get("tasks")
	to, ok := tv.(*sobek.Object)
	if !ok || to.ClassName() != "Array" {
		return nil, fmt.Errorf("user %q: tasks must be an array", user)
	}
	n := int(to.Get("length").ToInteger())
	out := make([]*sobek.Object, 0, n)
	for i := range n {
		x := to.Get(fmt.Sprint(i))
		if _, isFn := sobek.AssertFunction(x); isFn {
			t := v.rt.NewObject()
			_ = t.Set("fn", x)
			_ = t.Set("name", x.ToObject(v.rt).Get("name"))
			out = append(out, t)
			continue
		}
		t, ok := x.(*sobek.Object)
		if !ok {
			return nil, fmt.Errorf("user %q: tasks[%d] is not a task", user, i)
		}
		if _, isFn := sobek.AssertFunction(t.Get("fn")); !isFn {
			return nil, fmt.Errorf("user %q: tasks[%d] has no fn", user, i)
		}
		out = append(out, t)
	}
	return out, nil
}

func selected(tags, include, exclude []string) bool {
	for _, t := range tags {
		if slices.Contains(exclude, t) {
			return false
		}
	}
	if len(include) == 0 {
		return true
	}
	for _, t := range tags {
		if slices.Contains(include, t) {
			return true
		}
	}
	return false
}

// kindFor picks the user type of the VU at index idx of its scenario:
// fixed counts first, then smooth weighted round robin over the types
// allowed now (all, or the shape's userClasses).
func (s *Script) kindFor(idx int) int {
	allowed := s.allowedKinds()
	fixed := 0
	for _, k := range allowed {
		if f := s.users[k].fixedCount; f > 0 {
			if idx < fixed+f {
				return k
			}
			fixed += f
		}
	}
	var weighted []int
	total := 0
	for _, k := range allowed {
		if s.users[k].fixedCount == 0 {
			weighted = append(weighted, k)
			total += s.users[k].weight
		}
	}
	if total == 0 {
		return allowed[idx%len(allowed)]
	}
	n := (idx - fixed) % total
	cur := make([]int, len(weighted))
	best := 0
	for step := 0; step <= n; step++ {
		best = -1
		for i, k := range weighted {
			cur[i] += s.users[k].weight
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
	}
	return weighted[best]
}

func (s *Script) allowedKinds() []int {
	if p := s.allowed.Load(); p != nil && len(*p) > 0 {
		return *p
	}
	all := make([]int, len(s.users))
	for i := range all {
		all[i] = i
	}
	return all
}

// userVU is a VU running Locust-style users.
type userVU struct {
	*VU
	closed  bool
	kinds   []vuKind
	kind    int
	u       *sobek.Object // the user instance, new at each Start
	client  *sobek.Object
	next    int
	pending []*caught
	catchOK *httpvu.Client
	catchNo *httpvu.Client

	deck     []int // task deck of the current kind (see draw)
	deckPos  int
	deckKind int
}

// vuKind is a user type's functions in one runtime.
type vuKind struct {
	onStart, onStop sobek.Callable
	wait            *waitSpec
	waitFn          sobek.Callable
	tasks           []sobek.Callable
}

var _ engine.Lifecycle = (*userVU)(nil)

func (v *VU) newUser(closed bool) (*userVU, error) {
	objs, err := v.usersArray()
	if err != nil {
		return nil, err
	}
	u := &userVU{VU: v, closed: closed}
	for i, o := range objs {
		var k vuKind
		k.onStart, _ = sobek.AssertFunction(o.Get("onStart"))
		k.onStop, _ = sobek.AssertFunction(o.Get("onStop"))
		if w := o.Get("wait"); w != nil {
			if ws, ok := w.Export().(*waitSpec); ok {
				k.wait = ws
			} else {
				k.waitFn, _ = sobek.AssertFunction(w)
			}
		}
		tasks, err := v.taskObjects(o, v.s.users[i].name)
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			fn, _ := sobek.AssertFunction(t.Get("fn"))
			k.tasks = append(k.tasks, fn)
		}
		u.kinds = append(u.kinds, k)
	}
	v.user = u
	u.client = v.locustClient()
	return u, nil
}

// Start makes a new user instance of the type this slot has now and runs
// its onStart.
func (u *userVU) Start(ctx context.Context) error {
	u.kind = u.s.kindFor(u.st.IDInScen)
	u.next = 0
	u.u = u.object(map[string]any{
		"id": u.st.ID, "name": u.s.users[u.kind].name, "host": u.s.users[u.kind].host, "client": u.client,
	})
	if f := u.kinds[u.kind].onStart; f != nil {
		_, err := u.call(ctx, f, u.u)
		u.flush()
		return err
	}
	return nil
}

// Stop runs the user's onStop.
func (u *userVU) Stop(ctx context.Context) error {
	if f := u.kinds[u.kind].onStop; f != nil && u.u != nil {
		_, err := u.call(ctx, f, u.u)
		u.flush()
		return err
	}
	return nil
}

// RunIteration runs one task and, in closed-model executors, the wait.
func (u *userVU) RunIteration(ctx context.Context) error {
	if u.u == nil {
		if err := u.Start(ctx); err != nil {
			return err
		}
	}
	u.setIteration(u.st.Iteration)
	def := &u.s.users[u.kind]
	k := &u.kinds[u.kind]
	if len(def.selected) == 0 {
		u.ctx = ctx
		u.sleep(1) // every task filtered out by tags: idle, as Locust
		return nil
	}
	ti := u.pick(def)
	u.http.Group = ""
	start := time.Now()
	_, err := u.call(ctx, k.tasks[ti], u.u)
	u.flush()
	if err != nil || !u.closed {
		return err
	}
	var d time.Duration
	switch {
	case k.wait != nil:
		d = k.wait.waitFor(time.Since(start))
	case k.waitFn != nil:
		r, werr := u.call(ctx, k.waitFn, u.u)
		if werr != nil {
			return werr
		}
		d = time.Duration(r.ToFloat() * float64(time.Second))
	}
	if d > 0 {
		u.ctx = ctx
		u.sleep(d.Seconds())
	}
	return nil
}

func (u *userVU) pick(def *userDef) int {
	if def.sequential {
		t := def.selected[u.next%len(def.selected)]
		u.next++
		return t
	}
	if len(def.selected) == 1 {
		return def.selected[0]
	}
	if def.total <= maxDeck {
		return u.draw(def)
	}
	n := rand.IntN(def.total)
	for _, i := range def.selected {
		w := def.tasks[i].weight
		if n < w {
			return i
		}
		n -= w
	}
	return def.selected[len(def.selected)-1]
}

// maxDeck bounds the task deck: larger total weights draw independently.
const maxDeck = 1000

// draw deals tasks from a shuffled deck holding each selected task weight
// times, reshuffled when empty: the order is random, as in Locust, but
// every user runs the tasks in their exact proportions over each deck, so
// a short test already shows the weights.
func (u *userVU) draw(def *userDef) int {
	if u.deckKind != u.kind || u.deckPos >= len(u.deck) {
		if u.deckKind != u.kind || len(u.deck) == 0 {
			u.deck = u.deck[:0]
			for _, i := range def.selected {
				for range def.tasks[i].weight {
					u.deck = append(u.deck, i)
				}
			}
			u.deckKind = u.kind
		}
		rand.Shuffle(len(u.deck), func(a, b int) { u.deck[a], u.deck[b] = u.deck[b], u.deck[a] })
		u.deckPos = 0
	}
	t := u.deck[u.deckPos]
	u.deckPos++
	return t
}

// caught is a request made with catchResponse whose outcome the task
// decides: recorded when success() or failure() is called, or by its
// status when the task ends.
type caught struct {
	req   *httpc.Request
	resp  *httpc.Response
	p     httpvu.Params
	start time.Time
	done  bool
}

func (u *userVU) record(c *caught, ok *bool, msg string) {
	if c.done {
		return
	}
	c.done = true
	switch {
	case ok == nil:
		u.http.Record(c.req, c.resp, c.p, c.start)
	case *ok:
		u.catchClient(true).Record(c.req, c.resp, c.p, c.start)
	default:
		u.catchClient(false).Record(c.req, c.resp, c.p, c.start)
		name := c.p.Name
		if name == "" {
			name = c.req.URL
		}
		u.st.Registry.Errors.Add("failure", msg, c.req.Method+" "+name)
	}
}

// catchClient records with a fixed verdict, sharing the VU's connections.
func (u *userVU) catchClient(ok bool) *httpvu.Client {
	p := &u.catchNo
	if ok {
		p = &u.catchOK
	}
	if *p == nil {
		c := httpvu.New(u.st, httpc.Config{})
		c.HTTP = u.http.HTTP
		c.Expected = func(int) bool { return ok }
		*p = c
	}
	(*p).Group = u.http.Group
	return *p
}

// flush records the catchResponse requests the task left undecided.
func (u *userVU) flush() {
	for _, c := range u.pending {
		u.record(c, nil, "")
	}
	u.pending = u.pending[:0]
}

// locustClient is u.client: requests relative to the user's host, with
// Locust's options {headers, json, data, name, catchResponse, tags}.
func (v *VU) locustClient() *sobek.Object {
	method := func(m string) func(path string, opts sobek.Value) sobek.Value {
		return func(path string, opts sobek.Value) sobek.Value { return v.locustRequest(m, path, opts) }
	}
	return v.object(map[string]any{
		"get": method("GET"), "post": method("POST"), "put": method("PUT"), "patch": method("PATCH"),
		"delete": method("DELETE"), "head": method("HEAD"), "options": method("OPTIONS"),
		"request": func(m, path string, opts sobek.Value) sobek.Value { return v.locustRequest(m, path, opts) },
	})
}

func (v *VU) locustRequest(method, path string, opts sobek.Value) sobek.Value {
	u := v.user
	p := v.parseParams(opts)
	var body sobek.Value
	catch := false
	if o, ok := opts.(*sobek.Object); ok {
		if j := o.Get("json"); j != nil && !sobek.IsUndefined(j) {
			b, err := json.Marshal(j.Export())
			if err != nil {
				v.throw("%s %s: json: %v", method, path, err)
			}
			body = v.rt.ToValue(string(b))
			if p.header.Get("Content-Type") == "" {
				p.header.Set("Content-Type", "application/json")
			}
		} else if d := o.Get("data"); d != nil && !sobek.IsUndefined(d) {
			body = d
		} else if d := o.Get("body"); d != nil && !sobek.IsUndefined(d) {
			body = d
		}
		catch = o.Get("catchResponse") != nil && o.Get("catchResponse").ToBoolean()
	}
	host := ""
	if u != nil {
		host = v.s.users[u.kind].host
	}
	if !catch {
		return v.request(method, path, body, nil, host, p)
	}
	req, resp, hp := v.prepare(method, path, body, p, host)
	start := time.Now()
	err := v.http.HTTP.Do(v.ctx, req, resp)
	if err != nil && v.ctx.Err() != nil {
		v.rt.Interrupt(errStopped)
	}
	c := &caught{req: req, resp: resp, p: hp, start: start}
	u.pending = append(u.pending, c)
	o := v.response(req, resp, p, err)
	yes, no := true, false
	_ = o.Set("success", func() { u.record(c, &yes, "") })
	_ = o.Set("failure", func(msg sobek.Value) {
		m := "failure"
		if msg != nil && !sobek.IsUndefined(msg) {
			m = msg.String()
		}
		u.record(c, &no, m)
	})
	return o
}

// shapeExecutor probes the shape function for its largest user count and
// its end, and returns the engine executor that ticks it once a second.
func (s *Script) shapeExecutor() (engine.Shape, error) {
	maxUsers, limit := 0, time.Duration(0)
	const probeLimit = 24 * 3600
	for sec := 0; sec < probeLimit; sec++ {
		t, err := s.tick(time.Duration(sec) * time.Second)
		if err != nil {
			return engine.Shape{}, err
		}
		if t.Stop {
			limit = time.Duration(sec)*time.Second + time.Second
			break
		}
		maxUsers = max(maxUsers, t.Users)
	}
	s.allowed.Store(nil)
	if maxUsers <= 0 {
		return engine.Shape{}, &ScriptError{File: s.Path, Msg: "shape() never asks for a user"}
	}
	return engine.Shape{MaxUsers: maxUsers, Limit: limit, Tick: func(el time.Duration) engine.ShapeTick {
		t, err := s.tick(el)
		if err != nil {
			s.console("ERROR", err.Error())
			return engine.ShapeTick{Stop: true}
		}
		return t
	}}, nil
}

// tick calls shape(seconds) in the controller runtime.
func (s *Script) tick(el time.Duration) (engine.ShapeTick, error) {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	ctl := s.ctl
	fn, _ := sobek.AssertFunction(ctl.exports.Get("shape"))
	r, err := ctl.call(context.Background(), fn, ctl.rt.ToValue(el.Seconds()))
	if err != nil {
		return engine.ShapeTick{}, s.phaseError("shape", err)
	}
	if r == nil || sobek.IsUndefined(r) || sobek.IsNull(r) {
		return engine.ShapeTick{Stop: true}, nil
	}
	o := r.ToObject(ctl.rt)
	var t engine.ShapeTick
	if o.ClassName() == "Array" {
		t.Users, t.SpawnRate = int(o.Get("0").ToInteger()), o.Get("1").ToFloat()
		s.allowed.Store(nil)
		return t, nil
	}
	t.Users = getInt(o, "users", 0)
	if sr := o.Get("spawnRate"); sr != nil && !sobek.IsUndefined(sr) {
		t.SpawnRate = sr.ToFloat()
	}
	var classes []string
	if uc := o.Get("userClasses"); uc != nil && !sobek.IsUndefined(uc) && !sobek.IsNull(uc) {
		if err := ctl.rt.ExportTo(uc, &classes); err != nil {
			return t, &ScriptError{File: s.Path, Msg: "shape(): userClasses must be an array of user names"}
		}
	}
	var allowed []int
	for _, c := range classes {
		i := slices.IndexFunc(s.users, func(d userDef) bool { return d.name == c })
		if i < 0 {
			return t, &ScriptError{File: s.Path, Msg: fmt.Sprintf("shape(): unknown user type %q", c)}
		}
		allowed = append(allowed, i)
	}
	s.allowed.Store(&allowed)
	return t, nil
}

// UserClass names the user type this VU plays since its Start, for the
// dashboard's user mix (engine.Classed).
func (u *userVU) UserClass() engine.UserClass {
	d := &u.s.users[u.kind]
	if d.fixedCount > 0 { // a fixed count is not dealt by weight
		return engine.UserClass{Name: d.name, FixedCount: d.fixedCount}
	}
	return engine.UserClass{Name: d.name, Weight: d.weight}
}
