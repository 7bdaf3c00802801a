package profile

import (
	"debug/dwarf"
	"debug/elf"
	"sort"
	"sync"
)

// dwarfLines answers "which function, file and line, including inlined
// callers, is this pc" from DWARF, the way addr2line -i does: the line table
// gives the innermost file:line, and each DW_TAG_inlined_subroutine around
// pc gives one more frame whose line is the inner one's DW_AT_call_line.
type dwarfLines struct {
	rows  []lineRow
	funcs []dwFunc // one per subprogram range, sorted by lo
}

type lineRow struct {
	addr uint64
	file string
	line int64
	end  bool // end_sequence: no code from here on
}

type dwFunc struct {
	lo, hi uint64
	name   string
	inl    *[]dwInline
}

type dwInline struct {
	ranges   [][2]uint64
	depth    int
	origin   dwarf.Offset
	name     string
	callFile string
	callLine int64
}

// dwarfIndex finds the compile unit holding a pc and parses that unit's
// line table and subprograms the first time one of its pcs is looked up:
// a large binary has hundreds of units and a profile touches a few, and
// parsing them all costs seconds and tens of megabytes.
type dwarfIndex struct {
	mu    sync.Mutex // units and names fill in as sessions look pcs up
	d     *dwarf.Data
	cus   []cuRange // sorted by lo
	units map[dwarf.Offset]*dwarfLines
	names map[dwarf.Offset]string // entry names, filled as units are parsed
}

type cuRange struct {
	lo, hi uint64
	off    dwarf.Offset
}

// loadDWARF indexes f's DWARF compile units, or returns nil when it has
// none with code.
func loadDWARF(f *elf.File) *dwarfIndex {
	d, err := f.DWARF()
	if err != nil {
		return nil
	}
	x := &dwarfIndex{d: d, units: map[dwarf.Offset]*dwarfLines{}, names: map[dwarf.Offset]string{}}
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil || cu == nil {
			break
		}
		if cu.Tag == dwarf.TagCompileUnit {
			rgs, _ := d.Ranges(cu)
			for _, rg := range rgs {
				x.cus = append(x.cus, cuRange{lo: rg[0], hi: rg[1], off: cu.Offset})
			}
		}
		r.SkipChildren()
	}
	if len(x.cus) == 0 {
		return nil
	}
	sort.Slice(x.cus, func(i, j int) bool { return x.cus[i].lo < x.cus[j].lo })
	return x
}

// frames returns pc's frames, innermost (inlined) first, or nil.
func (x *dwarfIndex) frames(pc uint64) []frame {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := sort.Search(len(x.cus), func(i int) bool { return x.cus[i].lo > pc }) - 1
	if i < 0 || pc >= x.cus[i].hi {
		return nil
	}
	u := x.unit(x.cus[i].off)
	if u == nil {
		return nil
	}
	return u.frames(pc)
}

// unit parses the compile unit at off once.
func (x *dwarfIndex) unit(off dwarf.Offset) *dwarfLines {
	if u, ok := x.units[off]; ok {
		return u
	}
	x.units[off] = nil
	r := x.d.Reader()
	r.Seek(off)
	cu, err := r.Next()
	if err != nil || cu == nil {
		return nil
	}
	dl := &dwarfLines{}
	files := dl.addLines(x.d, cu)
	funcs, inls := readUnit(x.d, r, files, x.names)
	for _, p := range funcs {
		name := p.name
		if name == "" {
			name = x.name(p.origin)
		}
		for _, rg := range p.ranges {
			dl.funcs = append(dl.funcs, dwFunc{lo: rg[0], hi: rg[1], name: name, inl: p.inl})
		}
	}
	for _, list := range inls {
		for i := range *list {
			if (*list)[i].name == "" {
				(*list)[i].name = x.name((*list)[i].origin)
			}
		}
	}
	sort.Slice(dl.funcs, func(i, j int) bool { return dl.funcs[i].lo < dl.funcs[j].lo })
	sort.SliceStable(dl.rows, func(i, j int) bool { return dl.rows[i].addr < dl.rows[j].addr })
	x.units[off] = dl
	return dl
}

// name returns the name of the entry at off, which may live in another
// unit (Go's inlined subroutines point at their package's abstract entry).
func (x *dwarfIndex) name(off dwarf.Offset) string {
	if off == 0 {
		return ""
	}
	if n, ok := x.names[off]; ok {
		return n
	}
	x.names[off] = ""
	r := x.d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return ""
	}
	recordName(e, x.names)
	if x.names[off] == "" {
		x.names[off] = x.name(originOf(e))
	}
	return x.names[off]
}

type pendingFunc struct {
	ranges [][2]uint64
	name   string
	origin dwarf.Offset
	inl    *[]dwInline
}

// addLines appends cu's line table and returns its file table.
func (dl *dwarfLines) addLines(d *dwarf.Data, cu *dwarf.Entry) []*dwarf.LineFile {
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return nil
	}
	var e dwarf.LineEntry
	for lr.Next(&e) == nil {
		row := lineRow{addr: e.Address, line: int64(e.Line), end: e.EndSequence}
		if e.File != nil {
			row.file = e.File.Name
		}
		dl.rows = append(dl.rows, row)
	}
	return lr.Files()
}

// readUnit walks one compile unit's entries, collecting subprograms with
// code and the inlined subroutines nested in them. stack holds the tags of
// the open entries, so lexical blocks between inlined subroutines do not
// count as inlining levels.
func readUnit(d *dwarf.Data, r *dwarf.Reader, files []*dwarf.LineFile, names map[dwarf.Offset]string) ([]pendingFunc, []*[]dwInline) {
	var funcs []pendingFunc
	var inls []*[]dwInline
	stack := []dwarf.Tag{dwarf.TagCompileUnit}
	var cur *pendingFunc
	curLevel, inlLevel := 0, 0
	for len(stack) > 0 {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == 0 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top == dwarf.TagInlinedSubroutine {
				inlLevel--
			}
			if cur != nil && len(stack) < curLevel {
				funcs, cur = append(funcs, *cur), nil
			}
			continue
		}
		recordName(e, names)
		switch {
		case e.Tag == dwarf.TagSubprogram && cur == nil:
			if cur = newPendingFunc(d, e); cur != nil {
				inls = append(inls, cur.inl)
				curLevel, inlLevel = len(stack)+1, 0
				if !e.Children {
					funcs, cur = append(funcs, *cur), nil
				}
			}
		case e.Tag == dwarf.TagInlinedSubroutine && cur != nil:
			*cur.inl = append(*cur.inl, newInline(d, e, inlLevel, files))
		}
		if e.Children {
			stack = append(stack, e.Tag)
			if e.Tag == dwarf.TagInlinedSubroutine {
				inlLevel++
			}
		}
	}
	if cur != nil {
		funcs = append(funcs, *cur)
	}
	return funcs, inls
}

func recordName(e *dwarf.Entry, names map[dwarf.Offset]string) {
	if ln, ok := e.Val(dwarf.AttrLinkageName).(string); ok {
		names[e.Offset] = ln
	} else if n, ok := e.Val(dwarf.AttrName).(string); ok {
		names[e.Offset] = n
	}
}

func newPendingFunc(d *dwarf.Data, e *dwarf.Entry) *pendingFunc {
	rgs, _ := d.Ranges(e)
	if len(rgs) == 0 {
		return nil
	}
	p := &pendingFunc{ranges: rgs, inl: &[]dwInline{}, origin: originOf(e)}
	p.name, _ = e.Val(dwarf.AttrName).(string)
	if ln, ok := e.Val(dwarf.AttrLinkageName).(string); ok {
		p.name = ln
	}
	return p
}

func newInline(d *dwarf.Data, e *dwarf.Entry, level int, files []*dwarf.LineFile) dwInline {
	rgs, _ := d.Ranges(e)
	in := dwInline{ranges: rgs, depth: level, origin: originOf(e)}
	if fi, ok := e.Val(dwarf.AttrCallFile).(int64); ok && fi >= 0 && int(fi) < len(files) && files[fi] != nil {
		in.callFile = files[fi].Name
	}
	in.callLine, _ = e.Val(dwarf.AttrCallLine).(int64)
	return in
}

func originOf(e *dwarf.Entry) dwarf.Offset {
	if o, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
		return o
	}
	if o, ok := e.Val(dwarf.AttrSpecification).(dwarf.Offset); ok {
		return o
	}
	return 0
}

// line returns the line-table row covering pc.
func (dl *dwarfLines) line(pc uint64) (string, int64, bool) {
	i := sort.Search(len(dl.rows), func(i int) bool { return dl.rows[i].addr > pc }) - 1
	if i < 0 || dl.rows[i].end {
		return "", 0, false
	}
	return dl.rows[i].file, dl.rows[i].line, true
}

// frames returns pc's frames, innermost (inlined) first.
func (dl *dwarfLines) frames(pc uint64) []frame {
	i := sort.Search(len(dl.funcs), func(i int) bool { return dl.funcs[i].lo > pc }) - 1
	if i < 0 || pc >= dl.funcs[i].hi || dl.funcs[i].name == "" {
		return nil
	}
	f := dl.funcs[i]
	file, line, ok := dl.line(pc)
	if !ok {
		return nil
	}
	var chain []dwInline // outermost first
	for _, in := range *f.inl {
		if in.depth == len(chain) && covers(in.ranges, pc) {
			chain = append(chain, in)
		}
	}
	out := make([]frame, 0, len(chain)+1)
	for k := len(chain) - 1; k >= 0; k-- {
		out = append(out, frame{fn: chain[k].name, file: file, line: line})
		file, line = chain[k].callFile, chain[k].callLine
	}
	return append(out, frame{fn: f.name, file: file, line: line})
}

func covers(rgs [][2]uint64, pc uint64) bool {
	for _, r := range rgs {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}
