package profile

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// fakeText is code memory: reads at base+off come from bytes.
type fakeText struct {
	base uint64
	b    []byte
}

func (f fakeText) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(f.b).ReadAt(p, off-int64(f.base))
}

func TestCallTarget(t *testing.T) {
	code := make([]byte, 64)
	// At 0x1010: call rel32 to 0x1000 (rel = 0x1000 - 0x1015 = -0x15).
	code[0x10] = 0xE8
	rel := int32(-0x15)
	binary.LittleEndian.PutUint32(code[0x11:], uint32(rel))
	// At 0x1020: an indirect call (FF D0), not decoded.
	code[0x20], code[0x21] = 0xFF, 0xD0
	mem := fakeText{0x1000, code}
	for _, tc := range []struct {
		ret, want uint64
	}{
		{0x1015, 0x1000},
		{0x1022, 0},
		{0x1003, 0},
		{0x9000, 0}, // unreadable
	} {
		if got := callTarget(mem, tc.ret); got != tc.want {
			t.Errorf("callTarget(%#x) = %#x, want %#x", tc.ret, got, tc.want)
		}
	}
	if got := callTarget(nil, 0x1015); got != 0 {
		t.Errorf("no memory: %#x", got)
	}
}

func TestWithLeafCaller(t *testing.T) {
	for _, tc := range []struct {
		name        string
		stack       []uint64
		top, target uint64
		want        []uint64
		ok          bool
	}{
		{"inserted", []uint64{0x5010, 0x7000}, 0x6005, 0x5000, []uint64{0x5010, 0x6005, 0x7000}, true},
		{"already there", []uint64{0x5010, 0x6005}, 0x6005, 0x5000, []uint64{0x5010, 0x6005}, false},
		{"call lands above the leaf", []uint64{0x5010, 0x7000}, 0x6005, 0x5020, []uint64{0x5010, 0x7000}, false},
		{"call lands far below", []uint64{0x500000, 0x7000}, 0x6005, 0x1000, []uint64{0x500000, 0x7000}, false},
		{"no word", []uint64{0x5010}, 0, 0, []uint64{0x5010}, false},
		{"leaf only", []uint64{0x5010}, 0x6005, 0x5000, []uint64{0x5010, 0x6005}, true},
	} {
		got, ok := withLeafCaller(append([]uint64(nil), tc.stack...), tc.top, tc.target)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#x %v, want %#x %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
