package profile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// How often the sampler drains ring buffers, looks for new threads and
// re-reads address maps. Draining at 20 ms keeps an 8-page ring from
// overflowing at 999 Hz; thread scans are a readdir of /proc/PID/task.
const (
	drainEvery = 20 * time.Millisecond
	scanEvery  = 100 * time.Millisecond
	mapsEvery  = time.Second
)

// procState is what the sampler remembers about one profiled process: its
// address-space snapshots, newest first, kept after it exits so its samples
// can still be symbolized.
type procState struct {
	snaps    []regions
	lastMaps time.Time
	alive    bool
	comm     string
	calls    *callSites
}

// sampler samples every thread of a process (and, optionally, its
// descendants) with one perf event per thread, following new threads by
// rescanning /proc/PID/task — or, for a launched command, with inherited
// per-CPU events (launch_linux.go). Samples are aggregated by stack as
// they are read, so memory grows with distinct stacks, not with time.
type sampler struct {
	root     int
	rate     int
	pages    int
	children bool
	kernel   bool // kernel call chains
	// inherit: one event on a launched command's first thread, inherited
	// by every thread and child it creates; no per-thread scan.
	inherit bool

	mu     sync.Mutex
	rings  map[int]*perfRing // by tid
	procs  map[int]*procState
	stacks map[string]*stackCount
	lost   uint64
	key    []byte
	events []taskEvent // a drain's task events, to be sorted by time
	begin  time.Time

	stop chan struct{}
	done chan struct{}
	exit chan struct{} // closed when the root process is gone
}

// newSampler opens events on every thread of pid. An error opening the
// first thread (permissions, no such process) is returned as is.
func newSampler(pid, rate int, children, kernel bool) (*sampler, error) {
	s := newSamplerState(pid, rate, ringPages(rate), children, kernel)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return nil, fmt.Errorf("no process with pid %d", pid)
	}
	if err := s.scan(); err != nil {
		s.closeAll()
		return nil, err
	}
	if len(s.rings) == 0 {
		return nil, fmt.Errorf("process %d has no threads to sample (did it exit?)", pid)
	}
	go s.loop()
	return s, nil
}

func newSamplerState(pid, rate, pages int, children, kernel bool) *sampler {
	return &sampler{
		root: pid, rate: rate, children: children, kernel: kernel, pages: pages,
		rings: map[int]*perfRing{}, procs: map[int]*procState{}, stacks: map[string]*stackCount{},
		stop: make(chan struct{}), done: make(chan struct{}), exit: make(chan struct{}),
		begin: time.Now(),
	}
}

// ringPages sizes each thread's ring for 100 ms of samples with 64-frame
// stacks, as a power of two (the kernel requires one).
func ringPages(rate int) int {
	need := rate * 600 / 10 / os.Getpagesize()
	p := 8
	for p < need && p < 128 {
		p *= 2
	}
	return p
}

func (s *sampler) loop() {
	defer close(s.done)
	drain := time.NewTicker(drainEvery)
	defer drain.Stop()
	lastScan, lastMaps := time.Now(), time.Now()
	for {
		select {
		case <-s.stop:
			s.drain()
			s.closeAll()
			return
		case now := <-drain.C:
			s.drain()
			if now.Sub(lastScan) >= scanEvery {
				lastScan = now
				s.scan()
			}
			if now.Sub(lastMaps) >= mapsEvery {
				lastMaps = now
				s.refreshMaps()
			}
		}
	}
}

// drain reads every ring.
// Task events from different CPUs' rings are applied in time order, so
// that an exec on one CPU does not wipe the mmaps that followed it on
// another.
func (s *sampler) drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = s.events[:0]
	for _, r := range s.rings {
		r.read(s.add, s.collect)
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].time < s.events[j].time })
	for _, e := range s.events {
		s.taskEvent(e)
	}
}

func (s *sampler) collect(e taskEvent) { s.events = append(s.events, e) }

// add aggregates one sample; it runs with s.mu held.
func (s *sampler) add(rs rawSample) {
	pid := int(rs.pid)
	if s.inherit && !s.children && pid != s.root {
		return // a child process, sampled through inheritance but not asked for
	}
	ps, ok := s.procs[pid]
	if !ok {
		s.noteProc(pid)
	} else if len(rs.stack) > 0 && ps.alive && time.Since(ps.lastMaps) > 50*time.Millisecond &&
		(len(ps.snaps) == 0 || ps.snaps[0].find(rs.stack[0]) == nil) {
		s.remap(pid, ps) // code appeared outside the known mappings: a new library or JIT region
	}
	var caller uint64
	if rs.top != 0 && len(rs.stack) > 0 {
		ps = s.procs[pid]
		if ps.calls == nil {
			ps.calls = openCallSites(pid)
		}
		if t := ps.calls.target(rs.top); t != 0 {
			u := userStart(rs.stack)
			if user, ok := withLeafCaller(rs.stack[u:], rs.top, t); ok {
				rs.stack = append(rs.stack[:u:u], user...)
				caller = t
			}
		}
	}
	k := s.key[:0]
	k = binary.LittleEndian.AppendUint32(k, rs.pid)
	k = binary.LittleEndian.AppendUint64(k, caller)
	if rs.kernel {
		k = append(k, 1)
	} else {
		k = append(k, 0)
	}
	for _, pc := range rs.stack {
		k = binary.LittleEndian.AppendUint64(k, pc)
	}
	s.key = k
	sc, ok := s.stacks[string(k)]
	if !ok {
		sc = &stackCount{pid: pid, kernel: rs.kernel, stack: rs.stack, caller: caller}
		s.stacks[string(k)] = sc
	}
	sc.count++
	sc.nanos += int64(rs.period)
}

// noteProc takes the first address-space snapshot of a process.
func (s *sampler) noteProc(pid int) {
	ps := &procState{alive: true}
	if rs, err := readRegions(pid); err == nil {
		ps.snaps = []regions{rs}
		ps.lastMaps = time.Now()
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
		ps.comm = strings.TrimSpace(string(b))
	}
	s.procs[pid] = ps
}

// remap adds a fresh snapshot of pid's maps; it runs with s.mu held.
func (s *sampler) remap(pid int, ps *procState) {
	ps.lastMaps = time.Now()
	rs, err := readRegions(pid)
	if err != nil {
		ps.alive = false
		return
	}
	ps.push(rs)
}

// push keeps rs as the newest snapshot if it differs from the last one.
func (ps *procState) push(rs regions) {
	if len(ps.snaps) > 0 && sameRegions(ps.snaps[0], rs) {
		return
	}
	ps.snaps = append([]regions{rs}, ps.snaps...)
	if len(ps.snaps) > 8 {
		ps.snaps = ps.snaps[:8]
	}
}

// refreshMaps re-reads the maps of live processes; a changed map is kept
// as a new snapshot in front of the older ones.
func (s *sampler) refreshMaps() {
	s.mu.Lock()
	pids := make([]int, 0, len(s.procs))
	for pid, ps := range s.procs {
		if ps.alive {
			pids = append(pids, pid)
		}
	}
	s.mu.Unlock()
	for _, pid := range pids {
		rs, err := readRegions(pid)
		s.mu.Lock()
		ps := s.procs[pid]
		if err != nil {
			ps.alive = false
		} else {
			ps.lastMaps = time.Now()
			ps.push(rs)
		}
		s.mu.Unlock()
	}
}

func sameRegions(a, b regions) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// scan opens events on threads that appeared and closes those that ended.
// It returns the first error opening an event, which matters only for the
// very first scan (later threads may die between readdir and open).
func (s *sampler) scan() error {
	if s.inherit {
		if len(tasks(s.root)) == 0 {
			s.rootGone()
		}
		return nil
	}
	pids := []int{s.root}
	if s.children {
		pids = descendants(s.root)
	}
	live := map[int]int{}
	for _, pid := range pids {
		for _, tid := range tasks(pid) {
			live[tid] = pid
		}
	}
	if len(live) == 0 {
		s.rootGone()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for tid, pid := range live {
		if _, ok := s.rings[tid]; ok {
			continue
		}
		r, err := openPerfRing(tid, s.rate, s.pages, s.kernel)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		s.rings[tid] = r
		if _, ok := s.procs[pid]; !ok {
			s.noteProc(pid)
		}
	}
	for tid, r := range s.rings {
		if _, ok := live[tid]; !ok {
			r.read(s.add, s.taskEvent) // per-thread events carry no task events
			s.lost += r.lost
			r.close()
			delete(s.rings, tid)
		}
	}
	if first != nil && errors.Is(first, ErrNotPermitted) {
		return first
	}
	if len(s.rings) == 0 {
		return first
	}
	return nil
}

func (s *sampler) rootGone() {
	select {
	case <-s.exit:
	default:
		close(s.exit)
	}
}

// tasks lists the thread ids of pid; a zombie (exited, not yet reaped)
// has none.
func tasks(pid int) []int {
	if processState(pid) == 'Z' {
		return nil
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out
}

// descendants returns pid and all its live descendants, from the
// /proc/PID/task/TID/children lists.
func descendants(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out) && len(out) < 4096; i++ {
		for _, tid := range tasks(out[i]) {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", out[i], tid))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// take returns the stacks aggregated since the last take, with copies of
// the address-space snapshots needed to symbolize them.
func (s *sampler) take() (map[string]*stackCount, map[int][]regions, map[int]string, time.Duration) {
	s.drain()
	s.mu.Lock()
	defer s.mu.Unlock()
	stacks := s.stacks
	s.stacks = map[string]*stackCount{}
	snaps := make(map[int][]regions, len(s.procs))
	comms := make(map[int]string, len(s.procs))
	for pid, ps := range s.procs {
		snaps[pid] = ps.snaps
		comms[pid] = ps.comm
	}
	now := time.Now()
	d := now.Sub(s.begin)
	s.begin = now
	return stacks, snaps, comms, d
}

// lostSamples reports records the kernel dropped because a ring was full.
func (s *sampler) lostSamples() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lost
	for _, r := range s.rings {
		n += r.lost
	}
	return n
}

func (s *sampler) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func (s *sampler) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ps := range s.procs {
		ps.calls.close()
		ps.calls = nil
	}
	for tid, r := range s.rings {
		s.lost += r.lost
		r.close()
		delete(s.rings, tid)
	}
}

// processState returns the state letter of /proc/PID/stat (R, S, D, Z …),
// or 0 when the process is gone.
func processState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// fileKey identifies a file by device, inode, size and modification time,
// so the same library reached by two paths is decoded once.
func fileKey(path string, st os.FileInfo) string {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d:%d:%d", sys.Dev, sys.Ino, st.Size(), st.ModTime().UnixNano())
	}
	return fmt.Sprintf("%s:%d:%d", path, st.Size(), st.ModTime().UnixNano())
}
