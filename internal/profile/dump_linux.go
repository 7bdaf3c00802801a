package profile

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// ThreadStack is the user stack of one thread at the moment of a dump.
type ThreadStack struct {
	TID    int
	Name   string
	State  string // R running, S sleeping, D disk wait … from /proc/PID/task/TID/stat
	Frames []string
	Err    string // why the stack could not be read, if it could not
}

// Dump returns the current stack of every thread of pid, once. Each thread
// is stopped for a moment with PTRACE_SEIZE + PTRACE_INTERRUPT, its
// registers read, its frame-pointer chain walked through /proc/PID/mem,
// and released; the process as a whole is never stopped. Stacks are
// symbolized like sampled ones. For Go programs these are OS threads (Ms),
// not goroutines: use --url and the goroutine profile for those.
func Dump(pid int) ([]ThreadStack, error) {
	tids := tasks(pid)
	if len(tids) == 0 {
		return nil, fmt.Errorf("no process with pid %d", pid)
	}
	rs, err := readRegions(pid)
	if err != nil {
		return nil, fmt.Errorf("reading maps of pid %d: %w", pid, err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, fmt.Errorf("opening memory of pid %d: %w (needs CAP_SYS_PTRACE or the same user, and kernel.yama.ptrace_scope <= 1)", pid, err)
	}
	defer mem.Close()
	runtime.LockOSThread() // ptrace requests must come from the tracing thread
	defer runtime.UnlockOSThread()
	sym := newSymbolizer()
	sort.Ints(tids)
	out := make([]ThreadStack, 0, len(tids))
	for _, tid := range tids {
		ts := ThreadStack{TID: tid, Name: threadName(pid, tid), State: threadState(pid, tid)}
		pcs, caller, err := threadPCs(tid, mem)
		if err != nil {
			if err == unix.EPERM || err == unix.EACCES {
				return nil, fmt.Errorf("ptrace on pid %d: %w: needs root or CAP_SYS_PTRACE, and kernel.yama.ptrace_scope <= 1 for non-children (sysctl kernel.yama.ptrace_scope=1)", pid, err)
			}
			ts.Err = err.Error()
		}
		ts.Frames = symbolizeThread(sym, pid, rs, pcs, caller)
		out = append(out, ts)
	}
	return out, nil
}

// symbolizeThread names a walked stack, dropping a recovered leaf caller
// whose call does not target the leaf's function.
func symbolizeThread(sym *symbolizer, pid int, rs regions, pcs []uint64, caller uint64) []string {
	var frames [][]frame
	for i, pc := range pcs {
		fr, _ := sym.resolve(pid, []regions{rs}, pc, i == 0)
		frames = append(frames, fr)
	}
	if caller != 0 {
		callee, _ := sym.resolve(pid, []regions{rs}, caller, true)
		if last := frames[0][len(frames[0])-1]; callee[len(callee)-1].fn != last.fn {
			frames = append(frames[:1], frames[2:]...)
		}
	}
	var out []string
	for _, fr := range frames {
		for _, f := range fr {
			out = append(out, frameString(f))
		}
	}
	return out
}

func frameString(f frame) string {
	if f.file == "" {
		return f.fn
	}
	return fmt.Sprintf("%s (%s:%d)", f.fn, f.file, f.line)
}

// threadPCs stops tid, walks its frame pointers and lets it go. caller is
// the target of a leaf caller recovered from the stack pointer (see
// leafcaller.go), 0 if none.
func threadPCs(tid int, mem *os.File) (pcs []uint64, caller uint64, err error) {
	if err := unix.PtraceSeize(tid); err != nil {
		return nil, 0, err
	}
	defer unix.PtraceDetach(tid)
	if err := unix.PtraceInterrupt(tid); err != nil {
		return nil, 0, err
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tid, &ws, unix.WALL, nil); err != nil {
		return nil, 0, fmt.Errorf("waiting for thread %d to stop: %w", tid, err)
	}
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &regs); err != nil {
		return nil, 0, err
	}
	pcs = walkFrames(regs.PC(), regs.Rbp, mem)
	var b [8]byte
	if _, err := mem.ReadAt(b[:], int64(regs.Rsp)); err == nil {
		top := binary.LittleEndian.Uint64(b[:])
		if t := callTarget(mem, top); t != 0 {
			var ok bool
			if pcs, ok = withLeafCaller(pcs, top, t); ok {
				caller = t
			}
		}
	}
	return pcs, caller, nil
}

// walkFrames follows the saved-frame-pointer chain: [fp] is the caller's
// fp and [fp+8] the return address. It stops at a zero or non-increasing
// fp, an unreadable address, or 256 frames.
func walkFrames(pc, fp uint64, mem io.ReaderAt) []uint64 {
	pcs := []uint64{pc}
	var b [16]byte
	for len(pcs) < 256 && fp != 0 {
		if _, err := mem.ReadAt(b[:], int64(fp)); err != nil {
			break
		}
		next, ret := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
		if ret == 0 {
			break
		}
		pcs = append(pcs, ret)
		if next <= fp {
			break
		}
		fp = next
	}
	return pcs
}

func threadName(pid, tid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	return strings.TrimSpace(string(b))
}

func threadState(pid, tid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return "?"
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return "?"
	}
	return string(b[i+2])
}

// WriteDump prints stacks like py-spy dump: one block per thread, leaf first.
func WriteDump(w io.Writer, pid int, stacks []ThreadStack) error {
	comm, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	fmt.Fprintf(w, "Process %d: %s\n", pid, filepath.Base(comm))
	for _, ts := range stacks {
		fmt.Fprintf(w, "\nThread %d %q (%s)\n", ts.TID, ts.Name, stateName(ts.State))
		if ts.Err != "" {
			fmt.Fprintf(w, "    (stack unavailable: %s)\n", ts.Err)
		}
		for _, f := range ts.Frames {
			if _, err := fmt.Fprintf(w, "    %s\n", f); err != nil {
				return err
			}
		}
	}
	return nil
}

func stateName(s string) string {
	switch s {
	case "R":
		return "running"
	case "S":
		return "sleeping"
	case "D":
		return "disk sleep"
	case "T", "t":
		return "stopped"
	case "Z":
		return "zombie"
	}
	return s
}
