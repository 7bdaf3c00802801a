package profile

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"

	"github.com/google/pprof/profile"
)

//go:embed flamegraph.html
var flameHTML string

var flameTmpl = template.Must(template.New("flame").Parse(flameHTML))

// flameData is what the page's script draws: a names table and a tree of
// [name index, total, self, children, delta] arrays. Delta (diff graphs
// only) is the node's share of NEW minus its share of BASE, in percent.
type flameData struct {
	Title string   `json:"title"`
	Unit  string   `json:"unit"`
	Diff  bool     `json:"diff"`
	Names []string `json:"names"`
	Root  any      `json:"root"`
}

// WriteFlameGraph writes p's default sample type as one self-contained
// interactive HTML flame graph: click to zoom, search to highlight, hover
// for self and total shares. It loads nothing from the network.
func WriteFlameGraph(w io.Writer, p *profile.Profile) error {
	vi, err := ValueIndex(p, "")
	if err != nil {
		return err
	}
	return writeFlameGraph(w, p, vi, nil)
}

// WriteFlameGraphFragment writes the same flame graph as an HTML fragment
// (a <style>, a <div id=ID> and a <script>) for embedding in a larger page,
// such as a load-test report with one graph per stage. Each fragment on a
// page needs its own id.
func WriteFlameGraphFragment(w io.Writer, p *profile.Profile, id string) error {
	vi, err := ValueIndex(p, "")
	if err != nil {
		return err
	}
	return renderFlame(w, "fragment", id, p, vi, nil)
}

// WriteDiffFlameGraphFragment is WriteDiffFlameGraph as an embeddable
// fragment.
func WriteDiffFlameGraphFragment(w io.Writer, base, new *profile.Profile, id string) error {
	vb, err := ValueIndex(base, "")
	if err != nil {
		return err
	}
	vn, err := ValueIndex(new, "")
	if err != nil {
		return err
	}
	return renderFlame(w, "fragment", id, new, vn, BuildTree(base, vb))
}

// WriteDiffFlameGraph writes a differential flame graph: the shape of NEW,
// each frame colored red where NEW spends a larger share of its total than
// BASE did, blue where smaller (both normalized, so runs of different
// lengths compare).
func WriteDiffFlameGraph(w io.Writer, base, new *profile.Profile) error {
	vb, err := ValueIndex(base, "")
	if err != nil {
		return err
	}
	vn, err := ValueIndex(new, "")
	if err != nil {
		return err
	}
	return writeFlameGraph(w, new, vn, BuildTree(base, vb))
}

func writeFlameGraph(w io.Writer, p *profile.Profile, vi int, base *Node) error {
	return renderFlame(w, "page", "flame", p, vi, base)
}

func renderFlame(w io.Writer, tmpl, id string, p *profile.Profile, vi int, base *Node) error {
	root := BuildTree(p, vi)
	d := flameData{Title: title(p, vi), Unit: p.SampleType[vi].Unit, Diff: base != nil}
	names := map[string]int{}
	d.Root = encodeNode(root, base, root.Total, baseTotal(base), names, &d.Names)
	js, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding flame graph: %w", err)
	}
	return flameTmpl.ExecuteTemplate(w, tmpl, struct {
		ID, Title string
		Data      template.JS
	}{id, d.Title, template.JS(js)})
}

func baseTotal(n *Node) int64 {
	if n == nil {
		return 0
	}
	return n.Total
}

func title(p *profile.Profile, vi int) string {
	t := p.SampleType[vi].Type
	if p.DurationNanos > 0 {
		return fmt.Sprintf("%s flame graph (%.1fs)", t, float64(p.DurationNanos)/1e9)
	}
	return t + " flame graph"
}

func encodeNode(n, base *Node, total, btotal int64, names map[string]int, table *[]string) []any {
	id, ok := names[n.Name]
	if !ok {
		id = len(*table)
		names[n.Name] = id
		*table = append(*table, n.Name)
	}
	kids := make([]any, 0, len(n.Children))
	for _, c := range n.Children {
		var bc *Node
		if base != nil {
			bc = base.index[c.Name]
		}
		kids = append(kids, encodeNode(c, bc, total, btotal, names, table))
	}
	out := []any{id, n.Total, n.Self, kids}
	if btotal > 0 || base != nil {
		out = append(out, delta(n, base, total, btotal))
	}
	return out
}

// delta is n's share of total minus base's share of btotal, in percent
// rounded to 0.01.
func delta(n, base *Node, total, btotal int64) float64 {
	share := func(v, t int64) float64 {
		if t == 0 {
			return 0
		}
		return 100 * float64(v) / float64(t)
	}
	var b float64
	if base != nil {
		b = share(base.Total, btotal)
	}
	d := share(n.Total, total) - b
	return float64(int64(d*100)) / 100
}
