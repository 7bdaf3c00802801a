package profile

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func mmap2Record(pid uint32, addr, n, pgoff, ino uint64, prot uint32, name string) []byte {
	b := make([]byte, 64)
	le := binary.LittleEndian
	le.PutUint32(b[0:], pid)
	le.PutUint32(b[4:], pid)
	le.PutUint64(b[8:], addr)
	le.PutUint64(b[16:], n)
	le.PutUint64(b[24:], pgoff)
	le.PutUint64(b[40:], ino)
	le.PutUint32(b[56:], prot)
	b = append(b, name...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)[:len(b)+8-len(b)%8]
	return withTrailer(b, pid, 99)
}

// withTrailer appends the sample_id trailer {pid, tid, time}.
func withTrailer(b []byte, pid uint32, time uint64) []byte {
	t := make([]byte, 16)
	binary.LittleEndian.PutUint32(t[0:], pid)
	binary.LittleEndian.PutUint32(t[4:], pid)
	binary.LittleEndian.PutUint64(t[8:], time)
	return append(b, t...)
}

func TestParseTaskEvent(t *testing.T) {
	le := binary.LittleEndian
	fork := make([]byte, 24)
	le.PutUint32(fork[0:], 20)
	le.PutUint32(fork[4:], 10)
	fork = withTrailer(fork, 20, 97)
	thread := make([]byte, 24)
	le.PutUint32(thread[0:], 10)
	le.PutUint32(thread[4:], 10)
	thread = withTrailer(thread, 10, 97)
	comm := append(make([]byte, 8), "cc1\x00\x00\x00\x00\x00"...)
	le.PutUint32(comm[0:], 20)
	comm = withTrailer(comm, 20, 98)
	for _, tc := range []struct {
		name string
		typ  uint32
		misc uint16
		b    []byte
		want taskEvent
		ok   bool
	}{
		{"fork of a process", unix.PERF_RECORD_FORK, 0, fork, taskEvent{kind: unix.PERF_RECORD_FORK, pid: 20, ppid: 10, time: 97}, true},
		{"new thread", unix.PERF_RECORD_FORK, 0, thread, taskEvent{}, false},
		{"exec", unix.PERF_RECORD_COMM, commExec, comm, taskEvent{kind: unix.PERF_RECORD_COMM, pid: 20, comm: "cc1", time: 98}, true},
		{"rename, not exec", unix.PERF_RECORD_COMM, 0, comm, taskEvent{}, false},
		{"mmap2", unix.PERF_RECORD_MMAP2, 0, mmap2Record(20, 0x400000, 0x1000, 0x2000, 77, unix.PROT_READ|unix.PROT_EXEC, "/usr/bin/cc1"),
			taskEvent{kind: unix.PERF_RECORD_MMAP2, pid: 20, r: region{start: 0x400000, end: 0x401000, offset: 0x2000, exec: true, inode: 77, path: "/usr/bin/cc1"}, time: 99}, true},
		{"anonymous", unix.PERF_RECORD_MMAP2, 0, mmap2Record(20, 0x7000, 0x1000, 0, 0, unix.PROT_EXEC, "//anon"),
			taskEvent{kind: unix.PERF_RECORD_MMAP2, pid: 20, r: region{start: 0x7000, end: 0x8000, exec: true}, time: 99}, true},
		{"short", unix.PERF_RECORD_MMAP2, 0, make([]byte, 20), taskEvent{}, false},
	} {
		got, ok := parseTaskEvent(tc.typ, tc.misc, tc.b)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%s: got %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWithRegionReplacesOverlaps(t *testing.T) {
	rs := regions{{start: 0x1000, end: 0x2000, path: "a"}, {start: 0x3000, end: 0x5000, path: "b"}}
	got := withRegion(rs, region{start: 0x4000, end: 0x6000, path: "c"})
	want := regions{{start: 0x1000, end: 0x2000, path: "a"}, {start: 0x4000, end: 0x6000, path: "c"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if rs[1].path != "b" {
		t.Fatal("withRegion modified its input, which a cut may be reading")
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"0", []int{0}, true},
		{"0-3", []int{0, 1, 2, 3}, true},
		{"0-1,4,6-7", []int{0, 1, 4, 6, 7}, true},
		{"3-1", nil, false},
		{"x", nil, false},
	} {
		got, err := parseCPUList(tc.in)
		if (err == nil) != tc.ok || (tc.ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("parseCPUList(%q) = %v, %v", tc.in, got, err)
		}
	}
}
