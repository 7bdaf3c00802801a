package profile

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ianlancetaylor/demangle"
)

// frame is one symbolized frame; an address inlined into its caller yields
// several frames, innermost first.
type frame struct {
	fn   string
	file string
	line int64
}

// elfSym is a function symbol from .symtab or .dynsym.
type elfSym struct {
	addr, size uint64
	name       string
}

// module is the symbol information of one ELF file, loaded once per file
// however many processes map it.
type module struct {
	path  string
	loads []elf.ProgHeader // PT_LOAD segments, to turn file offsets into addresses
	syms  []elfSym         // sorted by addr
	gotab *gosym.Table     // Go pclntab, when the file is a Go binary
	dw    *dwarfIndex      // DWARF line tables and inlining, when present
	err   error
}

// openModule loads the symbol tables of the file at path (already prefixed
// with /proc/PID/root when read for a live process).
func openModule(path string) *module {
	m := &module{path: path}
	f, err := elf.Open(path)
	if err != nil {
		m.err = err
		return m
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			m.loads = append(m.loads, p.ProgHeader)
		}
	}
	m.syms = elfSymbols(f)
	m.gotab = goTable(f)
	m.dw = loadDWARF(f)
	if f.Section(".symtab") == nil || m.dw == nil {
		m.addDebugFile(f, path)
	}
	return m
}

// debugRoots are where separate debug files are looked for, as gdb does:
// ROOT/.build-id/xx/yyyy.debug, and ROOT/DIR/NAME for .gnu_debuglink.
var debugRoots = []string{"/usr/lib/debug"}

// addDebugFile takes symbols and DWARF from f's separate debug file
// (Debian's *-dbg and *-dbgsym packages install them), when there is one.
func (m *module) addDebugFile(f *elf.File, path string) {
	for _, cand := range debugCandidates(f, path) {
		df, err := elf.Open(cand)
		if err != nil {
			continue
		}
		if len(m.syms) == 0 || df.Section(".symtab") != nil {
			if syms := elfSymbols(df); len(syms) > len(m.syms) {
				m.syms = syms
			}
		}
		if m.dw == nil {
			m.dw = loadDWARF(df)
		}
		df.Close()
		return
	}
}

// debugCandidates lists the paths where f's debug file may be.
func debugCandidates(f *elf.File, path string) []string {
	var out []string
	if id := buildID(f); len(id) > 1 {
		hex := fmt.Sprintf("%x", id)
		for _, root := range debugRoots {
			out = append(out, filepath.Join(root, ".build-id", hex[:2], hex[2:]+".debug"))
		}
	}
	if sec := f.Section(".gnu_debuglink"); sec != nil {
		if b, err := sec.Data(); err == nil {
			if i := bytes.IndexByte(b, 0); i > 0 {
				name, dir := string(b[:i]), filepath.Dir(path)
				out = append(out, filepath.Join(dir, ".debug", name))
				for _, root := range debugRoots {
					out = append(out, filepath.Join(root, dir, name))
				}
			}
		}
	}
	return out
}

// buildID returns the GNU build ID note's bytes.
func buildID(f *elf.File) []byte {
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		return nil
	}
	b, err := sec.Data()
	if err != nil || len(b) < 16 {
		return nil
	}
	namesz := f.ByteOrder.Uint32(b[0:4])
	descsz := f.ByteOrder.Uint32(b[4:8])
	off := 12 + (namesz+3)&^3
	if uint32(len(b)) < off+descsz {
		return nil
	}
	return b[off : off+descsz]
}

// elfSymbols collects function symbols from .symtab and .dynsym, sorted.
func elfSymbols(f *elf.File) []elfSym {
	var out []elfSym
	add := func(syms []elf.Symbol) {
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 {
				continue
			}
			out = append(out, elfSym{addr: s.Value, size: s.Size, name: s.Name})
		}
	}
	if s, err := f.Symbols(); err == nil {
		add(s)
	}
	if s, err := f.DynamicSymbols(); err == nil {
		add(s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].addr != out[j].addr {
			return out[i].addr < out[j].addr
		}
		return out[i].size > out[j].size
	})
	return out
}

// goTable decodes the Go pclntab, which survives -ldflags=-s (stripping).
func goTable(f *elf.File) *gosym.Table {
	pcln := f.Section(".gopclntab")
	text := f.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	data, err := pcln.Data()
	if err != nil {
		return nil
	}
	t, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil
	}
	return t
}

// vaddr converts a file offset into the ELF virtual address the symbol
// tables use.
func (m *module) vaddr(off uint64) (uint64, bool) {
	for _, p := range m.loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// frames symbolizes the code at file offset off. Return addresses (every
// frame but the leaf) are looked up one byte earlier so that a call at the
// end of a line is charged to that line.
func (m *module) frames(off uint64, leaf bool) []frame {
	if m.err != nil {
		return nil
	}
	pc, ok := m.vaddr(off)
	if !ok {
		return nil
	}
	if !leaf {
		pc--
	}
	if m.dw != nil {
		if fr := m.dw.frames(pc); len(fr) > 0 {
			return fr
		}
	}
	if m.gotab != nil {
		if file, line, fn := m.gotab.PCToLine(pc); fn != nil {
			return []frame{{fn: fn.Name, file: file, line: int64(line)}}
		}
	}
	if name := m.symbol(pc); name != "" {
		return []frame{{fn: name}}
	}
	return nil
}

// symbol returns the ELF function symbol covering pc.
func (m *module) symbol(pc uint64) string {
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > pc }) - 1
	if i < 0 {
		return ""
	}
	s := m.syms[i]
	if s.size != 0 && pc >= s.addr+s.size {
		return ""
	}
	return demangle.Filter(s.name, demangle.NoParams)
}

// perfMapSym is one line of a /tmp/perf-PID.map file.
type perfMapSym struct {
	start, size uint64
	name        string
}

// perfMap is the JIT symbol map a runtime writes for perf: Python 3.12+
// with -X perf, Node with --perf-basic-prof, JVMs with perf-map-agent.
type perfMap struct {
	syms  []perfMapSym
	size  int64
	mtime int64
}

// loadPerfMap reads "START SIZE NAME" lines (hex numbers).
func loadPerfMap(path string) (*perfMap, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pm := &perfMap{size: st.Size(), mtime: st.ModTime().UnixNano()}
	for _, line := range strings.Split(string(b), "\n") {
		var s perfMapSym
		f := strings.SplitN(strings.TrimSpace(line), " ", 3)
		if len(f) < 3 {
			continue
		}
		var err1, err2 error
		s.start, err1 = strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 64)
		s.size, err2 = strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		s.name = f[2]
		pm.syms = append(pm.syms, s)
	}
	sort.SliceStable(pm.syms, func(i, j int) bool { return pm.syms[i].start < pm.syms[j].start })
	return pm, nil
}

// lookup returns the name covering addr; later lines win over earlier ones
// for the same start, as JITs rewrite code in place.
func (pm *perfMap) lookup(addr uint64) string {
	if pm == nil {
		return ""
	}
	i := sort.Search(len(pm.syms), func(i int) bool { return pm.syms[i].start > addr }) - 1
	for ; i >= 0; i-- {
		s := pm.syms[i]
		if addr < s.start+s.size {
			return s.name
		}
		if s.start+1<<20 < addr { // no JIT function is a megabyte long
			break
		}
	}
	return ""
}

// symbolizer resolves addresses of many processes, caching ELF files by
// path and inode and perf maps by pid.
type symbolizer struct {
	modules  map[string]*module
	perfMaps map[int]*perfMap
	fresh    map[int]bool // perf maps already checked in this batch
}

func newSymbolizer() *symbolizer {
	return &symbolizer{modules: map[string]*module{}, perfMaps: map[int]*perfMap{}, fresh: map[int]bool{}}
}

// module returns the symbol tables of r's file as seen by pid: through
// /proc/PID/root while the process lives (so containers work), else the
// host path.
func (s *symbolizer) module(pid int, r *region) *module {
	key := fmt.Sprintf("%s:%d", r.path, r.inode)
	if m, ok := s.modules[key]; ok {
		return m
	}
	path := r.path
	if root := fmt.Sprintf("/proc/%d/root", pid); pathExists(root + r.path) {
		path = root + r.path
	}
	m := cachedModule(path)
	s.modules[key] = m
	return m
}

// modules are shared by every symbolizer in the process, keyed by file
// identity, so that a libc's tables are decoded once however many sessions
// (stages, top refreshes) use them. The cache is small and simply emptied
// when full.
var modules struct {
	sync.Mutex
	m map[string]*module
}

const maxCachedModules = 64

func cachedModule(path string) *module {
	st, err := os.Stat(path)
	if err != nil {
		return openModule(path)
	}
	key := fileKey(path, st)
	modules.Lock()
	defer modules.Unlock()
	if m, ok := modules.m[key]; ok {
		return m
	}
	if modules.m == nil || len(modules.m) >= maxCachedModules {
		modules.m = map[string]*module{}
	}
	m := openModule(path)
	modules.m[key] = m
	return m
}

// perfMap returns pid's perf map, re-reading it when it has grown.
func (s *symbolizer) perfMap(pid int) *perfMap {
	if s.fresh[pid] {
		return s.perfMaps[pid]
	}
	s.fresh[pid] = true
	path := fmt.Sprintf("/tmp/perf-%d.map", pid)
	if !pathExists(path) {
		if alt := fmt.Sprintf("/proc/%d/root%s", pid, path); pathExists(alt) {
			path = alt
		}
	}
	old := s.perfMaps[pid]
	if st, err := os.Stat(path); err == nil && old != nil && st.Size() == old.size && st.ModTime().UnixNano() == old.mtime {
		return old
	}
	pm, err := loadPerfMap(path)
	if err != nil {
		return old
	}
	s.perfMaps[pid] = pm
	return pm
}

// resolve symbolizes addr in pid given its address-space snapshots. It
// never returns nothing: an unresolved frame is named module+offset.
func (s *symbolizer) resolve(pid int, snaps []regions, addr uint64, leaf bool) ([]frame, *region) {
	var r *region
	for _, rs := range snaps {
		if r = rs.find(addr); r != nil {
			break
		}
	}
	if r != nil && r.fileBacked() {
		off := addr - r.start + r.offset
		if fr := s.module(pid, r).frames(off, leaf); len(fr) > 0 {
			return fr, r
		}
		return []frame{{fn: fmt.Sprintf("%s+0x%x", filepath.Base(r.path), off)}}, r
	}
	if name := s.perfMap(pid).lookup(addr); name != "" {
		return []frame{{fn: name}}, r
	}
	if r != nil && r.path != "" {
		return []frame{{fn: fmt.Sprintf("%s+0x%x", r.path, addr-r.start)}}, r
	}
	return []frame{{fn: fmt.Sprintf("[unknown]+0x%x", addr)}}, r
}

func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
