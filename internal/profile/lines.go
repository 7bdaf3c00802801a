package profile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"

	"github.com/google/pprof/profile"
)

// LineCount is the value charged to one source line of a function: Self
// when the line was executing, Total when it was executing or calling.
type LineCount struct {
	Line        int64
	Self, Total int64
}

// FuncLines is the per-line view of one function (line_profiler's view,
// from samples).
type FuncLines struct {
	Name, File  string
	Self, Total int64
	Grand       int64 // the profile's total, for percentages
	Lines       []LineCount
}

// Lines returns the per-line counts of every function whose name matches
// re, hottest function first and, within one, hottest line first.
func Lines(p *profile.Profile, re *regexp.Regexp, vi int) []FuncLines {
	a := &lineAcc{re: re, funcs: map[funcKey]*funcAcc{}}
	for _, s := range p.Sample {
		a.add(s, s.Value[vi])
	}
	return a.result()
}

// lineAcc accumulates per-line values sample by sample.
type lineAcc struct {
	re    *regexp.Regexp
	funcs map[funcKey]*funcAcc
	grand int64
	n     int // samples charged so far: each one's id
}

type funcAcc struct {
	FuncLines
	lines map[int64]*LineCount
	// seen marks the last sample counted, so recursion counts once.
	seen     int
	seenLine map[int64]int
}

// add charges one sample: self to the leaf line, total to every matching
// line on the stack (once per sample, however deep the recursion).
func (a *lineAcc) add(s *profile.Sample, v int64) {
	a.grand += v
	if v == 0 {
		return
	}
	a.n++
	id := a.n
	leaf := true
	for _, l := range s.Location {
		for _, ln := range l.Line {
			if ln.Function != nil && a.re.MatchString(ln.Function.Name) {
				a.charge(funcKey{ln.Function.Name, ln.Function.Filename}, ln.Line, v, leaf, id)
			}
			leaf = false
		}
	}
}

func (a *lineAcc) charge(k funcKey, line, v int64, leaf bool, id int) {
	f := a.funcs[k]
	if f == nil {
		f = &funcAcc{FuncLines: FuncLines{Name: k.name, File: k.file}, lines: map[int64]*LineCount{}, seenLine: map[int64]int{}}
		a.funcs[k] = f
	}
	lc := f.lines[line]
	if lc == nil {
		lc = &LineCount{Line: line}
		f.lines[line] = lc
	}
	if leaf {
		lc.Self += v
		f.Self += v
	}
	if f.seenLine[line] != id {
		f.seenLine[line] = id
		lc.Total += v
	}
	if f.seen != id {
		f.seen = id
		f.Total += v
	}
}

func (a *lineAcc) result() []FuncLines {
	out := make([]FuncLines, 0, len(a.funcs))
	for _, f := range a.funcs {
		f.Grand = a.grand
		for _, lc := range f.lines {
			f.Lines = append(f.Lines, *lc)
		}
		sort.Slice(f.Lines, func(i, j int) bool {
			x, y := f.Lines[i], f.Lines[j]
			if x.Total != y.Total {
				return x.Total > y.Total
			}
			return x.Line < y.Line
		})
		out = append(out, f.FuncLines)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// WriteLines prints the per-line view of functions matching re, with the
// source text when the file is readable here. It errs when none matches.
func WriteLines(w io.Writer, p *profile.Profile, re *regexp.Regexp, sampleType string) error {
	vi, err := ValueIndex(p, sampleType)
	if err != nil {
		return err
	}
	fls := Lines(p, re, vi)
	if len(fls) == 0 {
		return fmt.Errorf("no function matching %q has samples in this profile", re.String())
	}
	bw := bufio.NewWriter(w)
	for i, f := range fls {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		writeFuncLines(bw, f)
	}
	return bw.Flush()
}

func writeFuncLines(w io.Writer, f FuncLines) {
	pc := func(v int64) float64 {
		if f.Grand == 0 {
			return 0
		}
		return 100 * float64(v) / float64(f.Grand)
	}
	fmt.Fprintf(w, "%s  total %.1f%%  self %.1f%%  %s\n", f.Name, pc(f.Total), pc(f.Self), f.File)
	fmt.Fprintf(w, "%8s %7s %7s %6s  %s\n", "value", "total%", "self%", "line", "source")
	src := readSource(f.File)
	for _, lc := range f.Lines {
		text := ""
		if lc.Line > 0 && int(lc.Line) <= len(src) {
			text = src[lc.Line-1]
		}
		fmt.Fprintf(w, "%8d %6.1f%% %6.1f%% %6d  %s\n", lc.Total, pc(lc.Total), pc(lc.Self), lc.Line, text)
	}
}

// readSource returns the lines of file, or nil when it is not readable
// here (the profile may come from another machine).
func readSource(file string) []string {
	if file == "" {
		return nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
