package pgstat

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// TextOptions control the text renderers.
type TextOptions struct {
	// Color turns on ANSI colors. Use ColorFor to decide it from the
	// terminal and NO_COLOR.
	Color bool
}

// ColorFor reports whether output to w should be colored: only when w is a
// terminal and the NO_COLOR environment variable is unset or empty
// (https://no-color.org).
func ColorFor(w io.Writer, isTerminal func(fd int) bool) bool {
	if os.Getenv("NO_COLOR") != "" || isTerminal == nil {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(int(f.Fd()))
}

// WriteText renders an analyzed plan as a table with the plan tree in its
// last column, followed by the findings.
func WriteText(out io.Writer, p *Plan, opt TextOptions) error {
	w := bufio.NewWriter(out)
	writeSummary(w, p, opt.Color)
	if err := w.Flush(); err != nil {
		return err
	}
	t := planTable(p)
	if err := t.write(out, opt.Color); err != nil {
		return err
	}
	writeFindings(w, p, opt.Color)
	return w.Flush()
}

func writeSummary(w *bufio.Writer, p *Plan, color bool) {
	fmt.Fprintln(w, paint(strings.Join(summaryParts(p), " · "), styleBold, color))
	for _, t := range p.Triggers {
		fmt.Fprintf(w, "  trigger %s on %s: %s ms, %s calls\n", t.Name, t.Relation, fmtMs(t.Time), fmtCount(t.Calls))
	}
	if p.Note != "" {
		fmt.Fprintln(w, p.Note)
	}
	fmt.Fprintln(w)
}

func summaryParts(p *Plan) []string {
	var parts []string
	if p.PlanningTime > 0 {
		parts = append(parts, "Planning "+fmtMs(p.PlanningTime)+" ms")
	}
	if p.Analyzed {
		parts = append(parts, "Execution "+fmtMs(p.ExecutionTime)+" ms")
	} else {
		parts = append(parts, "estimate only (no ANALYZE): costs are the planner's units, not time")
	}
	if p.JIT != nil {
		parts = append(parts, fmt.Sprintf("JIT %s ms (%d functions)", fmtMs(p.JIT.Total), p.JIT.Functions))
	}
	if tt, calls := triggerTotal(p); calls > 0 {
		parts = append(parts, fmt.Sprintf("Triggers %s ms (%s calls)", fmtMs(tt), fmtCount(calls)))
	}
	return parts
}

func triggerTotal(p *Plan) (ms, calls float64) {
	for _, t := range p.Triggers {
		ms += t.Time
		calls += t.Calls
	}
	return ms, calls
}

func planTable(p *Plan) *table {
	t := &table{}
	if p.Analyzed {
		t.header = []string{"#", "self ms", "self %", "total ms", "rows", "planned", "estimate", "loops",
			"hit", "read", "temp", "node"}
	} else {
		t.header = []string{"#", "self cost", "total cost", "planned", "node"}
	}
	for _, n := range p.Nodes {
		tree := cell{treePrefix(n) + nodeName(n), styleNone}
		if p.Analyzed {
			t.add(analyzedCells(p, n, tree)...)
		} else {
			t.add(cell{fmt.Sprint(n.ID), styleDim}, cell{fmtCount2(n.ExclusiveCost), styleNone},
				cell{fmtCount2(n.TotalCost), styleNone}, cell{fmtCount(n.PlanRows), styleNone}, tree)
		}
		if d := details(n); len(d) > 0 {
			pad := strings.Repeat(" ", len([]rune(childPrefix(n))))
			for i := range d {
				d[i] = pad + d[i]
			}
			t.addExtra(d...)
		}
	}
	return t
}

func fmtCount2(v float64) string { return group(fmt.Sprintf("%.2f", v)) }

func analyzedCells(p *Plan, n *Node, tree cell) []cell {
	if !n.Executed() {
		return []cell{{fmt.Sprint(n.ID), styleDim}, {"", ""}, {"", ""}, {"never executed", styleDim},
			{"", ""}, {fmtCount(n.PlanRows), ""}, {"", ""}, {"0", ""}, {"", ""}, {"", ""}, {"", ""},
			{tree.text, styleDim}}
	}
	share := 0.0
	if p.Total > 0 {
		share = n.Exclusive / p.Total
	}
	b := n.ExclusiveBuffers
	temp := cell{fmtCount(b.Temp()), styleNone}
	if b.Temp() > 0 {
		temp.style = styleYellow
	}
	return []cell{
		{fmt.Sprint(n.ID), styleDim},
		{fmtMs(n.Exclusive), levelStyle(share, TimeShares)},
		{fmtPct(share), levelStyle(share, TimeShares)},
		{fmtMs(n.Inclusive), styleNone},
		{fmtCount(n.ActualRows), styleNone},
		{fmtCount(n.PlanRows), styleNone},
		{estimateText(n), levelStyle(n.EstimateFactor, EstimateFactors)},
		{fmtCount(n.Loops), styleNone},
		{fmtCount(b.Hit()), styleNone},
		{fmtCount(b.Read()), styleNone},
		temp,
		tree,
	}
}

func levelStyle(v float64, t [3]float64) string {
	sev, ok := level(v, t)
	if !ok {
		return styleNone
	}
	return severityStyle(sev)
}

func severityStyle(s Severity) string {
	return [...]string{styleYellow, styleRed, styleBoldRed}[s]
}

// estimateText is "under ×40" or "over ×3.2"; empty when the estimate is
// within a factor of 1.5.
func estimateText(n *Node) string {
	if n.EstimateDir == "" || n.EstimateFactor < 1.5 {
		return ""
	}
	return n.EstimateDir + " ×" + fmtFactor(n.EstimateFactor)
}

func nodeName(n *Node) string {
	name := n.Label()
	if n.SubplanName != "" {
		name = "[" + n.SubplanName + "] " + name
	}
	if n.Type == "Gather" || n.Type == "Gather Merge" {
		name += fmt.Sprintf(" (%d of %d workers)", n.WorkersLaunched, n.WorkersPlanned)
	}
	return name
}

// treePrefix draws the branches in front of a node: "│  ├─ ".
func treePrefix(n *Node) string {
	if n.Parent == nil {
		return ""
	}
	return ancestorsPrefix(n.Parent) + branch(n, "├─ ", "└─ ")
}

// childPrefix is the prefix under a node, where its details are printed.
func childPrefix(n *Node) string {
	if len(n.Children) > 0 {
		return ancestorsPrefix(n) + "│  "
	}
	return ancestorsPrefix(n) + "   "
}

func ancestorsPrefix(n *Node) string {
	if n.Parent == nil {
		return ""
	}
	return ancestorsPrefix(n.Parent) + branch(n, "│  ", "   ")
}

func branch(n *Node, mid, last string) string {
	sib := n.Parent.Children
	if sib[len(sib)-1] == n {
		return last
	}
	return mid
}

// details are the lines printed under a node: its conditions and what it
// did with rows, memory and disk.
func details(n *Node) []string {
	var d []string
	for _, c := range n.Conditions {
		d = append(d, c.Name+": "+c.Expr)
	}
	if r := n.RowsRemovedByFilter * n.Loops; r > 0 {
		d = append(d, "Rows Removed by Filter: "+fmtCount(r))
	}
	if r := n.RowsRemovedByJoinFilter * n.Loops; r > 0 {
		d = append(d, "Rows Removed by Join Filter: "+fmtCount(r))
	}
	if n.SortMethod != "" {
		d = append(d, fmt.Sprintf("Sort Method: %s, %s: %s kB", n.SortMethod, n.SortSpace, fmtCount(n.SortSpaceUsed)))
	}
	if n.HashBatches > 0 {
		d = append(d, fmt.Sprintf("Hash Batches: %s (planned %s), Memory: %s kB",
			fmtCount(n.HashBatches), fmtCount(n.OrigBatches), fmtCount(n.PeakMemory)))
	}
	if n.HashAggBatches > 1 || n.DiskUsage > 0 {
		d = append(d, fmt.Sprintf("HashAgg Batches: %s, Disk: %s kB", fmtCount(n.HashAggBatches), fmtCount(n.DiskUsage)))
	}
	if n.Type == "Index Only Scan" && n.Executed() {
		d = append(d, "Heap Fetches: "+fmtCount(n.HeapFetches))
	}
	return d
}

func writeFindings(w *bufio.Writer, p *Plan, color bool) {
	switch {
	case len(p.Findings) == 0 && !p.Analyzed:
		fmt.Fprintln(w, "\nNo findings: without ANALYZE only the plan's shape is known.")
		return
	case len(p.Findings) == 0:
		fmt.Fprintln(w, "\nNo findings: no node over 10% of the time, no misestimate over ×10, no spill.")
		return
	}
	fmt.Fprintln(w, "\n"+paint("Findings", styleBold, color))
	for _, f := range p.Findings {
		sev := fmt.Sprintf("%-8s", f.Severity)
		fmt.Fprintf(w, "  %s %s%s\n", paint(sev, severityStyle(f.Severity), color), nodeRef(f.Node), f.Message)
	}
}

// nodeRef is "#3 " for a node's finding, "" for the statement's.
func nodeRef(id int) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("#%d ", id)
}
