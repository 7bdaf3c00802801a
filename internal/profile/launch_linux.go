package profile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// StartCommand starts cmd (not yet started) and samples it from its first
// instruction: the child stops at exec (ptrace), one inherited perf event
// is opened on its only thread, and it is let go. Every thread it creates,
// however short-lived, is sampled from birth, and with subprocesses every
// process it starts; without, children's samples are dropped. The caller
// waits for cmd as usual.
func StartCommand(ctx context.Context, cmd *exec.Cmd, subprocesses bool, o Options) (*Session, error) {
	o = o.withDefaults()
	if o.Rate > MaxRate {
		return nil, fmt.Errorf("rate %d Hz is above the maximum of %d Hz", o.Rate, MaxRate)
	}
	// The thread that starts a traced child is its tracer and must also be
	// the one that detaches it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	pid := cmd.Process.Pid
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		cmd.Process.Kill()
		return nil, fmt.Errorf("starting %s: it did not stop at exec (%v)", cmd.Path, err)
	}
	s, err := newInheritSampler(pid, o.Rate, subprocesses, o.KernelStacks)
	if derr := unix.PtraceDetach(pid); derr != nil && err == nil {
		err = fmt.Errorf("releasing %s after attaching: %w", cmd.Path, derr)
	}
	if err != nil {
		if s != nil {
			s.close()
		}
		cmd.Process.Kill()
		return nil, err
	}
	return &Session{target: Target{PID: pid, Subprocesses: subprocesses}, opts: o, start: time.Now(), s: s, sym: newSymbolizer()}, nil
}

// newInheritSampler samples pid, which must have one thread and be
// stopped (a command traced at exec), with one inherited event per CPU, so
// its threads and children are sampled from their first instruction.
func newInheritSampler(pid, rate int, children, kernel bool) (*sampler, error) {
	s := newSamplerState(pid, rate, 64, children, kernel)
	s.inherit = true
	cpus, err := onlineCPUs()
	if err != nil {
		return nil, err
	}
	for i, cpu := range cpus {
		r, err := openPerfRingOn(pid, cpu, rate, s.pages, kernel,
			unix.PerfBitInherit|unix.PerfBitMmap|unix.PerfBitMmap2|unix.PerfBitComm|unix.PerfBitCommExec|unix.PerfBitTask|unix.PerfBitSampleIDAll)
		if err != nil {
			s.closeAll()
			return nil, err
		}
		s.rings[-1-i] = r // keyed apart from thread ids
	}
	s.noteProc(pid)
	go s.loop()
	return s, nil
}

// onlineCPUs lists the CPUs in /sys/devices/system/cpu/online ("0-3,6").
func onlineCPUs() ([]int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, fmt.Errorf("listing CPUs: %w", err)
	}
	return parseCPUList(strings.TrimSpace(string(b)))
}

func parseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// taskEvent keeps a launched command's address maps from the kernel's
// records; it runs with s.mu held. Each change makes a new snapshot, since
// a cut may be symbolizing the previous one.
func (s *sampler) taskEvent(e taskEvent) {
	pid := int(e.pid)
	switch e.kind {
	case unix.PERF_RECORD_FORK:
		child := &procState{alive: true, lastMaps: time.Now()}
		if parent, ok := s.procs[int(e.ppid)]; ok {
			child.comm = parent.comm
			if len(parent.snaps) > 0 {
				child.snaps = []regions{parent.snaps[0]}
			}
		}
		s.procs[pid] = child
	case unix.PERF_RECORD_COMM: // exec: a new address space follows
		ps := s.proc(pid)
		ps.push(regions{})
		ps.comm = e.comm
	case unix.PERF_RECORD_MMAP2:
		ps := s.proc(pid)
		var cur regions
		if len(ps.snaps) > 0 {
			cur = ps.snaps[0]
		}
		ps.snaps = append([]regions{withRegion(cur, e.r)}, ps.snaps...)
		if len(ps.snaps) > 8 {
			ps.snaps = ps.snaps[:8]
		}
	}
}

// proc returns pid's state, creating an empty one.
func (s *sampler) proc(pid int) *procState {
	ps, ok := s.procs[pid]
	if !ok {
		ps = &procState{alive: true, lastMaps: time.Now()}
		s.procs[pid] = ps
	}
	return ps
}

// withRegion returns a copy of rs with r mapped over whatever it overlaps.
func withRegion(rs regions, r region) regions {
	out := make(regions, 0, len(rs)+1)
	for _, x := range rs {
		if x.end <= r.start || x.start >= r.end {
			out = append(out, x)
		}
	}
	out = append(out, r)
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}
