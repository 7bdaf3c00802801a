package profile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// Node is one frame of a call tree: the function, the value of samples
// whose stack passes through it (Total) and of those that end in it (Self).
type Node struct {
	Name     string
	Self     int64
	Total    int64
	Children []*Node
	index    map[string]*Node
}

func (n *Node) child(name string) *Node {
	if c, ok := n.index[name]; ok {
		return c
	}
	if n.index == nil {
		n.index = map[string]*Node{}
	}
	c := &Node{Name: name}
	n.index[name] = c
	n.Children = append(n.Children, c)
	return c
}

// sortTree orders children by name (as flame graphs do), recursively.
func (n *Node) sortTree() {
	sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Name < n.Children[j].Name })
	for _, c := range n.Children {
		c.sortTree()
	}
}

// ValueIndex picks the sample value to chart: the named sample type, or the
// profile's default (pprof's rule: DefaultSampleType, else the last one).
func ValueIndex(p *profile.Profile, name string) (int, error) {
	if name == "" {
		name = p.DefaultSampleType
	}
	if name == "" {
		return len(p.SampleType) - 1, nil
	}
	var have []string
	for i, st := range p.SampleType {
		if st.Type == name {
			return i, nil
		}
		have = append(have, st.Type)
	}
	return 0, fmt.Errorf("profile has no sample type %q (it has %s)", name, strings.Join(have, ", "))
}

// frameNames returns a sample's function names, root first, with inlined
// frames expanded (pprof lists a location's lines innermost first). A
// sample labeled with its process's command (profiles of several
// processes) starts with that command, so each program gets its own tower.
func frameNames(s *profile.Sample) []string {
	var out []string
	if c := s.Label["comm"]; len(c) == 1 {
		out = append(out, "["+c[0]+"]")
	}
	for i := len(s.Location) - 1; i >= 0; i-- {
		l := s.Location[i]
		if len(l.Line) == 0 {
			out = append(out, fmt.Sprintf("0x%x", l.Address))
			continue
		}
		for j := len(l.Line) - 1; j >= 0; j-- {
			name := "?"
			if f := l.Line[j].Function; f != nil {
				name = f.Name
			}
			out = append(out, name)
		}
	}
	return out
}

// BuildTree folds p's samples into a call tree rooted at a node named
// "all", using sample value vi.
func BuildTree(p *profile.Profile, vi int) *Node {
	root := &Node{Name: "all"}
	for _, s := range p.Sample {
		v := s.Value[vi]
		if v == 0 {
			continue
		}
		n := root
		n.Total += v
		for _, name := range frameNames(s) {
			n = n.child(name)
			n.Total += v
		}
		n.Self += v
	}
	root.sortTree()
	return root
}
