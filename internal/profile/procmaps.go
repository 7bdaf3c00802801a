package profile

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// region is one line of /proc/PID/maps.
type region struct {
	start, end, offset uint64
	exec               bool
	inode              uint64
	path               string // "" for anonymous memory, "[vdso]", "/usr/lib/…"
}

// fileBacked reports whether the region maps a file we can open.
func (r *region) fileBacked() bool {
	return strings.HasPrefix(r.path, "/") && r.inode != 0
}

// regions is a sorted snapshot of a process's address space.
type regions []region

// find returns the region holding addr, or nil.
func (rs regions) find(addr uint64) *region {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].end > addr })
	if i < len(rs) && rs[i].start <= addr {
		return &rs[i]
	}
	return nil
}

// readRegions reads /proc/PID/maps.
func readRegions(pid int) (regions, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	return parseRegions(b)
}

// parseRegions parses the text of /proc/PID/maps:
//
//	00400000-00452000 r-xp 00000000 08:02 173521  /usr/bin/dbus-daemon
func parseRegions(b []byte) (regions, error) {
	var rs regions
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			return nil, fmt.Errorf("bad maps line %q", line)
		}
		var r region
		var err error
		if r.start, err = strconv.ParseUint(lo, 16, 64); err != nil {
			return nil, fmt.Errorf("bad maps line %q: %w", line, err)
		}
		if r.end, err = strconv.ParseUint(hi, 16, 64); err != nil {
			return nil, fmt.Errorf("bad maps line %q: %w", line, err)
		}
		r.offset, _ = strconv.ParseUint(f[2], 16, 64)
		r.exec = strings.Contains(f[1], "x")
		r.inode, _ = strconv.ParseUint(f[4], 10, 64)
		if len(f) > 5 {
			// The path is everything after the inode column; it may hold spaces.
			idx := strings.Index(line, f[5])
			r.path = strings.TrimSuffix(line[idx:], " (deleted)")
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	return rs, sc.Err()
}
