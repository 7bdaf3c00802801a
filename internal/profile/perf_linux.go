package profile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSample is one PERF_RECORD_SAMPLE: who was on the CPU and its user call
// chain, leaf first. kernel is true when the sampled IP was in the kernel
// (a system call or a fault), which the profile shows as a "[kernel]" frame.
//
// top is the word at the user stack pointer: in a leaf function that has
// not saved a frame pointer (frameless, or still in its prologue) it is the
// return address into the caller, which the kernel's frame-pointer walk
// skips; see leafcaller.go.
type rawSample struct {
	pid, tid uint32
	period   uint64
	kernel   bool
	stack    []uint64
	top      uint64
}

// perfContextMax is PERF_CONTEXT_MAX (-4095) as an unsigned call-chain entry.
const perfContextMax = ^uint64(0xffe)

const sampleType = unix.PERF_SAMPLE_IP | unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME |
	unix.PERF_SAMPLE_PERIOD | unix.PERF_SAMPLE_CALLCHAIN | unix.PERF_SAMPLE_STACK_USER

// stackDump is how many bytes of user stack each sample copies: one word.
const stackDump = 8

// perfRing is one perf event (software cpu-clock on one thread) and its
// mmap'ed ring buffer.
type perfRing struct {
	fd   int
	mem  []byte
	meta *unix.PerfEventMmapPage
	data []byte
	buf  []byte // scratch for records that wrap around the ring's end
	lost uint64
}

// ErrNotPermitted is returned (wrapped) when the kernel refuses
// perf_event_open; its message names the setting and the fix.
var ErrNotPermitted = errors.New("not permitted")

// permissionError explains a refused perf_event_open in one line, naming
// kernel.perf_event_paranoid and the capabilities that lift it.
func permissionError(pid int, err error) error {
	paranoid := "unknown"
	if b, rerr := os.ReadFile("/proc/sys/kernel/perf_event_paranoid"); rerr == nil {
		paranoid = strings.TrimSpace(string(b))
	}
	return fmt.Errorf("perf_event_open on pid %d: %w (%v): kernel.perf_event_paranoid is %s; "+
		"run as root, or grant CAP_PERFMON and CAP_SYS_PTRACE (setcap cap_perfmon,cap_sys_ptrace+ep surge), "+
		"or lower it with 'sysctl kernel.perf_event_paranoid=1'", pid, ErrNotPermitted, err, paranoid)
}

// openPerfRing opens a cpu-clock sampling event on thread tid at rate Hz,
// with kernel call chains when kernel is set.
// It asks for kernel samples first and falls back to user-only sampling,
// which perf_event_paranoid=2 still allows to unprivileged users.
func openPerfRing(tid, rate, pages int, kernel bool) (*perfRing, error) {
	return openPerfRingOn(tid, -1, rate, pages, kernel, 0)
}

// openPerfRingOn is openPerfRing on one CPU (-1: any) with extra attribute
// bits. The kernel refuses to mmap an inherited event on any CPU, so
// inherited events are opened once per CPU, as perf record does.
func openPerfRingOn(tid, cpu, rate, pages int, kernel bool, extra uint64) (*perfRing, error) {
	attr := unix.PerfEventAttr{
		Type:              unix.PERF_TYPE_SOFTWARE,
		Config:            unix.PERF_COUNT_SW_CPU_CLOCK,
		Sample:            uint64(rate),
		Sample_type:       sampleType,
		Sample_stack_user: stackDump,
		Bits:              unix.PerfBitFreq | unix.PerfBitExcludeHv,
		Wakeup:            0, // no wakeup per sample: the reader polls on a timer
	}
	if !kernel {
		attr.Bits |= unix.PerfBitExcludeCallchainKernel
	}
	attr.Bits |= extra
	attr.Size = uint32(unsafe.Sizeof(attr))
	attr.Sample_max_stack = 0
	fd, err := unix.PerfEventOpen(&attr, tid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err == unix.EACCES || err == unix.EPERM {
		attr.Bits |= unix.PerfBitExcludeKernel
		fd, err = unix.PerfEventOpen(&attr, tid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	}
	if err != nil {
		if err == unix.EACCES || err == unix.EPERM {
			return nil, permissionError(tid, err)
		}
		return nil, fmt.Errorf("perf_event_open on thread %d: %w", tid, err)
	}
	r := &perfRing{fd: fd}
	if err := r.mmap(pages); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return r, nil
}

func (r *perfRing) mmap(pages int) error {
	ps := os.Getpagesize()
	mem, err := unix.Mmap(r.fd, 0, (pages+1)*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mapping perf ring buffer (%d pages): %w", pages, err)
	}
	r.mem = mem
	r.meta = (*unix.PerfEventMmapPage)(unsafe.Pointer(&mem[0]))
	off, size := r.meta.Data_offset, r.meta.Data_size
	if off == 0 || size == 0 { // kernels before 4.1
		off, size = uint64(ps), uint64(pages*ps)
	}
	r.data = mem[off : off+size]
	return nil
}

// taskEvent is a PERF_RECORD_MMAP2, _FORK or _COMM record: how a process
// launched under inherited events changes its address space. They let a
// child that exits before /proc/PID/maps is read still be symbolized.
type taskEvent struct {
	kind uint32 // unix.PERF_RECORD_MMAP2, _FORK or _COMM (exec only)
	pid  uint32
	ppid uint32 // FORK
	r    region // MMAP2
	comm string // COMM
	time uint64 // from the sample_id trailer: orders events across rings
}

// commExec marks a COMM record caused by exec (PERF_RECORD_MISC_COMM_EXEC).
const commExec = 1 << 13

// read hands every complete sample in the ring to fn, task events to ev
// (when not nil), and frees the space.
func (r *perfRing) read(fn func(rawSample), ev func(taskEvent)) {
	head := atomic.LoadUint64(&r.meta.Data_head)
	tail := r.meta.Data_tail
	size := uint64(len(r.data))
	for tail+8 <= head {
		hdr := r.at(tail, 8)
		typ := binary.LittleEndian.Uint32(hdr[0:4])
		recSize := uint64(binary.LittleEndian.Uint16(hdr[6:8]))
		if recSize < 8 || recSize > size {
			tail = head // a corrupt header: drop what is there rather than spin on it
			r.lost++
			break
		}
		if tail+recSize > head {
			break
		}
		rec := r.at(tail, recSize)
		switch typ {
		case unix.PERF_RECORD_SAMPLE:
			if s, ok := parseSample(rec[8:]); ok {
				fn(s)
			}
		case unix.PERF_RECORD_MMAP2, unix.PERF_RECORD_FORK, unix.PERF_RECORD_COMM:
			misc := binary.LittleEndian.Uint16(hdr[4:6])
			if e, ok := parseTaskEvent(typ, misc, rec[8:]); ok && ev != nil {
				ev(e)
			}
		case unix.PERF_RECORD_LOST:
			if len(rec) >= 24 {
				r.lost += binary.LittleEndian.Uint64(rec[16:24])
			}
		}
		tail += recSize
	}
	atomic.StoreUint64(&r.meta.Data_tail, tail)
}

// at returns n bytes at ring position pos, copying when they wrap.
func (r *perfRing) at(pos, n uint64) []byte {
	size := uint64(len(r.data))
	start := pos % size
	if start+n <= size {
		return r.data[start : start+n]
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	k := copy(b, r.data[start:])
	copy(b[k:], r.data[:n-uint64(k)])
	return b
}

// parseTaskEvent decodes the records enabled by the mmap2, comm and task
// attribute bits, with sample_id_all.
func parseTaskEvent(typ uint32, misc uint16, b []byte) (taskEvent, bool) {
	le := binary.LittleEndian
	if len(b) < 24 {
		return taskEvent{}, false
	}
	// With sample_id_all, every record ends in {pid, tid, time} (the
	// TID and TIME parts of sampleType).
	e := taskEvent{kind: typ, pid: le.Uint32(b), time: le.Uint64(b[len(b)-8:])}
	switch typ {
	case unix.PERF_RECORD_FORK:
		e.ppid = le.Uint32(b[4:])
		return e, e.pid != e.ppid // a new thread is not a new address space
	case unix.PERF_RECORD_COMM:
		name := b[8:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		e.comm = string(name)
		return e, misc&commExec != 0
	case unix.PERF_RECORD_MMAP2:
		// pid, tid, addr, len, pgoff, maj, min, ino, ino_generation, prot, flags, filename
		if len(b) < 64+16 {
			return taskEvent{}, false
		}
		addr, n, pgoff := le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:])
		prot := le.Uint32(b[56:])
		name := b[64:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		e.r = region{start: addr, end: addr + n, offset: pgoff, exec: prot&unix.PROT_EXEC != 0, inode: le.Uint64(b[40:]), path: string(name)}
		if strings.HasPrefix(e.r.path, "//anon") {
			e.r.path = ""
		}
		return e, true
	}
	return taskEvent{}, false
}

// parseSample decodes a sample body laid out by sampleType:
// ip, pid/tid, time, period, nr, ips[nr], size, stack[size], dyn_size.
func parseSample(b []byte) (rawSample, bool) {
	if len(b) < 40 {
		return rawSample{}, false
	}
	le := binary.LittleEndian
	ip := le.Uint64(b[0:])
	s := rawSample{pid: le.Uint32(b[8:]), tid: le.Uint32(b[12:]), period: le.Uint64(b[24:])}
	s.kernel = ip >= 1<<63
	nr := le.Uint64(b[32:])
	b = b[40:]
	if uint64(len(b)) < nr*8 {
		return rawSample{}, false
	}
	s.stack = make([]uint64, 0, nr)
	for i := uint64(0); i < nr; i++ {
		pc := le.Uint64(b[i*8:])
		if pc >= perfContextMax { // PERF_CONTEXT_USER and friends
			continue
		}
		s.stack = append(s.stack, pc)
	}
	b = b[nr*8:]
	if len(b) >= 8 {
		size := le.Uint64(b)
		if size >= 8 && uint64(len(b)) >= 8+size+8 && le.Uint64(b[8+size:]) >= 8 {
			s.top = le.Uint64(b[8:])
		}
	}
	return s, true
}

func (r *perfRing) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	unix.Close(r.fd)
}
