package profile

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/pprof/profile"
	"github.com/ianlancetaylor/demangle"
)

// stackCount accumulates identical stacks of one process.
type stackCount struct {
	pid    int
	kernel bool
	stack  []uint64
	// caller is the target of the call recovered as the user leaf's caller
	// (see leafcaller.go), 0 when none was; the symbolizer verifies it.
	caller uint64
	count  int64
	nanos  int64
}

// builder turns aggregated raw stacks into a pprof profile, sharing
// locations, functions and mappings between samples.
type builder struct {
	sym      *symbolizer
	snaps    map[int][]regions
	p        *profile.Profile
	locs     map[locKey]*profile.Location
	specials map[string]*profile.Location
	funcs    map[funcKey]*profile.Function
	maps     map[mapKey]*profile.Mapping
	multi    bool // more than one process: label samples with pid
	comms    map[int]string
}

type locKey struct {
	pid  int
	addr uint64
	leaf bool
}

type funcKey struct{ name, file string }

type mapKey struct {
	pid   int
	start uint64
}

// buildProfile symbolizes stacks and returns them as a CPU profile with
// sample types samples/count and cpu/nanoseconds.
func buildProfile(sym *symbolizer, stacks map[string]*stackCount, snaps map[int][]regions, comms map[int]string, rate int, start time.Time, dur time.Duration) *profile.Profile {
	b := &builder{
		sym: sym, snaps: snaps, comms: comms,
		locs:     map[locKey]*profile.Location{},
		specials: map[string]*profile.Location{},
		funcs:    map[funcKey]*profile.Function{},
		maps:     map[mapKey]*profile.Mapping{},
		p: &profile.Profile{
			SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
			PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
			// Counts read better than nanoseconds in folded stacks and
			// tooltips; pprof -sample_index=cpu still gives time.
			DefaultSampleType: "samples",
			Period:            int64(time.Second) / int64(max(rate, 1)),
			TimeNanos:         start.UnixNano(),
			DurationNanos:     int64(dur),
		},
	}
	pids := map[int]bool{}
	for _, sc := range stacks {
		pids[sc.pid] = true
	}
	b.multi = len(pids) > 1
	sym.fresh = map[int]bool{}
	for _, sc := range sortedStacks(stacks) {
		b.p.Sample = append(b.p.Sample, b.sample(sc))
	}
	return b.p
}

// sortedStacks orders stacks by key so that output is deterministic.
func sortedStacks(stacks map[string]*stackCount) []*stackCount {
	keys := make([]string, 0, len(stacks))
	for k := range stacks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*stackCount, len(keys))
	for i, k := range keys {
		out[i] = stacks[k]
	}
	return out
}

func (b *builder) sample(sc *stackCount) *profile.Sample {
	s := &profile.Sample{Value: []int64{sc.count, sc.nanos}}
	stack := sc.stack
	u := userStart(stack)
	if sc.kernel && u == 0 {
		s.Location = append(s.Location, b.special("[kernel]"))
	}
	if sc.caller != 0 && !b.callsLeaf(sc, u) {
		// The recovered caller did not check out.
		stack = append(stack[:u+1:u+1], stack[u+2:]...)
	}
	for i, pc := range stack {
		s.Location = append(s.Location, b.location(sc.pid, pc, i == 0 && !sc.kernel))
	}
	if len(s.Location) == 0 {
		s.Location = append(s.Location, b.special("[no stack]"))
	}
	if b.multi {
		s.NumLabel = map[string][]int64{"pid": {int64(sc.pid)}}
		if c := b.comms[sc.pid]; c != "" {
			s.Label = map[string][]string{"comm": {c}}
		}
	}
	return s
}

// callsLeaf reports whether the call recovered as sc's leaf caller targets
// the leaf's own function (the outermost one, when the leaf pc is inlined).
func (b *builder) callsLeaf(sc *stackCount, u int) bool {
	leaf := b.location(sc.pid, sc.stack[u], !sc.kernel)
	callee, _ := b.sym.resolve(sc.pid, b.snaps[sc.pid], sc.caller, true)
	if len(leaf.Line) == 0 || len(callee) == 0 {
		return false
	}
	return leaf.Line[len(leaf.Line)-1].Function.SystemName == callee[len(callee)-1].fn
}

// special is a location without an address, for frames outside user space.
func (b *builder) special(name string) *profile.Location {
	if l, ok := b.specials[name]; ok {
		return l
	}
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1)}
	l.Line = []profile.Line{{Function: b.function(frame{fn: name})}}
	b.p.Location = append(b.p.Location, l)
	b.specials[name] = l
	return l
}

func (b *builder) location(pid int, pc uint64, leaf bool) *profile.Location {
	k := locKey{pid: pid, addr: pc, leaf: leaf}
	if l, ok := b.locs[k]; ok {
		return l
	}
	if isKernelPC(pc) {
		l := &profile.Location{ID: uint64(len(b.p.Location) + 1), Address: pc}
		l.Line = []profile.Line{{Function: b.function(frame{fn: kernelSymbol(pc)})}}
		b.p.Location = append(b.p.Location, l)
		b.locs[k] = l
		return l
	}
	frames, r := b.sym.resolve(pid, b.snaps[pid], pc, leaf)
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1), Address: pc}
	if r != nil {
		l.Mapping = b.mapping(pid, r)
	}
	for _, f := range frames {
		l.Line = append(l.Line, profile.Line{Function: b.function(f), Line: f.line})
	}
	b.p.Location = append(b.p.Location, l)
	b.locs[k] = l
	return l
}

func (b *builder) function(f frame) *profile.Function {
	name := demangle.Filter(f.fn, demangle.NoParams)
	k := funcKey{name, f.file}
	if fn, ok := b.funcs[k]; ok {
		return fn
	}
	fn := &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: name, SystemName: f.fn, Filename: f.file}
	b.p.Function = append(b.p.Function, fn)
	b.funcs[k] = fn
	return fn
}

func (b *builder) mapping(pid int, r *region) *profile.Mapping {
	k := mapKey{pid, r.start}
	if m, ok := b.maps[k]; ok {
		return m
	}
	m := &profile.Mapping{
		ID: uint64(len(b.p.Mapping) + 1), Start: r.start, Limit: r.end, Offset: r.offset,
		File: r.path, HasFunctions: true, HasFilenames: true, HasLineNumbers: true,
	}
	if r.path == "" {
		m.File = fmt.Sprintf("[anon:%d]", pid)
	}
	b.p.Mapping = append(b.p.Mapping, m)
	b.maps[k] = m
	return m
}
