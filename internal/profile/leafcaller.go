package profile

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Leaf callers. The kernel unwinds user stacks by frame pointer: it takes
// the sampled pc, then follows the saved-BP chain. A leaf function that has
// not pushed a frame pointer — Go's and libc's small leaf functions are
// frameless, and every function is until its prologue runs — leaves BP
// pointing at its caller's frame, so the walk yields leaf, caller's caller,
// … and the caller itself is lost. In that state the word at the stack
// pointer is the return address into the caller. Each sample copies that
// one word (PERF_SAMPLE_STACK_USER, 8 bytes); if the code just before it is
// a direct CALL (E8 rel32) whose target is the leaf's own function, the
// return address is put back into the stack as the caller. The target is
// checked twice: cheaply while sampling (the call must land at or below
// the leaf pc, within 1 MiB), and exactly when symbolizing (the call's
// target must be the leaf's function).
//
// Note: reading the target from the binary's frame tables (Go's pcsp
// table, .eh_frame) would also cover indirect calls, at the price of a
// CFI interpreter; direct calls are the common case for leaf functions.

// callSites caches, for one process, whether a return address follows a
// direct call, and where that call goes (0: not a direct call).
type callSites struct {
	mem  io.ReaderAt
	file *os.File
	seen map[uint64]uint64
}

func openCallSites(pid int) *callSites {
	c := &callSites{seen: map[uint64]uint64{}}
	if f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid)); err == nil {
		c.file, c.mem = f, f
	}
	return c
}

// target returns the target of the direct call that ret returns from.
func (c *callSites) target(ret uint64) uint64 {
	if t, ok := c.seen[ret]; ok {
		return t
	}
	t := callTarget(c.mem, ret)
	if len(c.seen) < 1<<16 {
		c.seen[ret] = t
	}
	return t
}

func (c *callSites) close() {
	if c != nil && c.file != nil {
		c.file.Close()
	}
}

// callTarget decodes "E8 rel32" ending at ret.
func callTarget(mem io.ReaderAt, ret uint64) uint64 {
	if mem == nil || ret < 5 || ret >= 1<<63 {
		return 0
	}
	var b [5]byte
	if _, err := mem.ReadAt(b[:], int64(ret-5)); err != nil || b[0] != 0xE8 {
		return 0
	}
	return ret + uint64(int64(int32(binary.LittleEndian.Uint32(b[1:]))))
}

// withLeafCaller inserts top after the leaf when it plausibly returns
// into the leaf's caller: a direct call to an address at or below the
// leaf pc (within 1 MiB), not already the walk's next frame.
func withLeafCaller(stack []uint64, top, target uint64) ([]uint64, bool) {
	if len(stack) == 0 || top == 0 || target == 0 {
		return stack, false
	}
	leaf := stack[0]
	if target > leaf || leaf-target > 1<<20 || (len(stack) > 1 && stack[1] == top) {
		return stack, false
	}
	out := make([]uint64, 0, len(stack)+1)
	out = append(out, leaf, top)
	return append(out, stack[1:]...), true
}

// userStart is the index of the first user-space pc of a call chain that
// may begin with kernel frames.
func userStart(stack []uint64) int {
	for i, pc := range stack {
		if !isKernelPC(pc) {
			return i
		}
	}
	return len(stack)
}

// isKernelPC reports whether pc is in the kernel half of the x86-64
// address space.
func isKernelPC(pc uint64) bool { return pc >= 1<<63 }
