package profile

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// FuncShare is one function's share of a profile's total: Self counts
// samples whose leaf is the function, Total those with it anywhere on the
// stack (counted once per sample, so recursion does not inflate it).
type FuncShare struct {
	Name       string
	Self       int64
	Total      int64
	SelfShare  float64 // 0..1
	TotalShare float64 // 0..1
}

// TopFunctions returns the n functions with the most self value (ties
// broken by total, then name), from p's default sample type. n <= 0 returns
// all.
func TopFunctions(p *profile.Profile, n int) []FuncShare {
	vi, err := ValueIndex(p, "")
	if err != nil {
		return nil
	}
	all := functionShares(p, vi)
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Self != b.Self {
			return a.Self > b.Self
		}
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Name < b.Name
	})
	if n > 0 && len(all) > n {
		all = all[:n]
	}
	return all
}

// functionShares computes every function's self and total value.
func functionShares(p *profile.Profile, vi int) []FuncShare {
	by := map[string]*FuncShare{}
	var grand int64
	get := func(name string) *FuncShare {
		f, ok := by[name]
		if !ok {
			f = &FuncShare{Name: name}
			by[name] = f
		}
		return f
	}
	for _, s := range p.Sample {
		v := s.Value[vi]
		if v == 0 {
			continue
		}
		grand += v
		names := frameNames(s)
		if len(names) == 0 {
			continue
		}
		get(names[len(names)-1]).Self += v
		seen := map[string]bool{}
		for _, name := range names {
			if !seen[name] {
				seen[name] = true
				get(name).Total += v
			}
		}
	}
	out := make([]FuncShare, 0, len(by))
	for _, f := range by {
		if grand > 0 {
			f.SelfShare = float64(f.Self) / float64(grand)
			f.TotalShare = float64(f.Total) / float64(grand)
		}
		out = append(out, *f)
	}
	return out
}

// WriteTop prints a table of the n hottest functions.
func WriteTop(w io.Writer, p *profile.Profile, n int) error {
	fmt.Fprintf(w, "%7s %7s  %s\n", "self%", "total%", "function")
	for _, f := range TopFunctions(p, n) {
		if _, err := fmt.Fprintf(w, "%6.1f%% %6.1f%%  %s\n", 100*f.SelfShare, 100*f.TotalShare, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// Change is how one function's share moved between two profiles.
type Change struct {
	Name                string
	Base, New           float64 // self shares, 0..1
	BaseTotal, NewTotal float64 // total shares, 0..1
}

// Delta is the change in self share, in points of 0..1.
func (c Change) Delta() float64 { return c.New - c.Base }

// TopChanges returns the n functions whose self share moved most between
// base and new (both normalized to their own totals).
func TopChanges(base, new *profile.Profile, n int) []Change {
	by := map[string]*Change{}
	get := func(name string) *Change {
		c, ok := by[name]
		if !ok {
			c = &Change{Name: name}
			by[name] = c
		}
		return c
	}
	if vi, err := ValueIndex(base, ""); err == nil {
		for _, f := range functionShares(base, vi) {
			c := get(f.Name)
			c.Base, c.BaseTotal = f.SelfShare, f.TotalShare
		}
	}
	if vi, err := ValueIndex(new, ""); err == nil {
		for _, f := range functionShares(new, vi) {
			c := get(f.Name)
			c.New, c.NewTotal = f.SelfShare, f.TotalShare
		}
	}
	out := make([]Change, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		di, dj := math.Abs(out[i].Delta()), math.Abs(out[j].Delta())
		if di != dj {
			return di > dj
		}
		return out[i].Name < out[j].Name
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// WriteChanges prints a table of the n largest changes in self share.
func WriteChanges(w io.Writer, base, new *profile.Profile, n int) error {
	fmt.Fprintf(w, "%7s %7s %8s  %s\n", "base%", "new%", "change", "function")
	for _, c := range TopChanges(base, new, n) {
		if _, err := fmt.Fprintf(w, "%6.1f%% %6.1f%% %+7.1f  %s\n", 100*c.Base, 100*c.New, 100*c.Delta(), c.Name); err != nil {
			return err
		}
	}
	return nil
}

// Sentence summarizes where new spends its CPU compared with base, for a
// report: "38% of CPU is in encoding/json.Marshal, up from 12%". It names
// the function whose self share grew the most (by at least one point) —
// the likely cause of a slowdown — or else the hottest function of new.
// base may be nil.
func Sentence(base, new *profile.Profile) string {
	top := TopFunctions(new, 1)
	if len(top) == 0 {
		return "no CPU samples were recorded"
	}
	if base == nil {
		return fmt.Sprintf("%s of CPU is in %s", percent(top[0].SelfShare), top[0].Name)
	}
	for _, c := range TopChanges(base, new, 0) {
		if c.Delta() >= 0.01 {
			return fmt.Sprintf("%s of CPU is in %s, up from %s", percent(c.New), c.Name, percent(c.Base))
		}
	}
	f := top[0]
	s := fmt.Sprintf("%s of CPU is in %s", percent(f.SelfShare), f.Name)
	var was float64
	if vi, err := ValueIndex(base, ""); err == nil {
		for _, b := range functionShares(base, vi) {
			if b.Name == f.Name {
				was = b.SelfShare
			}
		}
	}
	switch {
	case percent(was) == percent(f.SelfShare):
		return s + ", unchanged"
	case was < f.SelfShare:
		return s + ", up from " + percent(was)
	}
	return s + ", down from " + percent(was)
}

// percent formats a 0..1 share as a whole percentage, with one decimal
// below 1% so small shares do not read as zero.
func percent(x float64) string {
	if x > 0 && x < 0.01 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*x), ".0") + "%"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}
