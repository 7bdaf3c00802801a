package pgstat

import (
	"fmt"
	"sort"
)

// Severity orders findings; renderers color them.
type Severity int

// Severities, from a note to a problem that dominates the plan.
const (
	Info Severity = iota
	Warning
	Critical
)

func (s Severity) String() string {
	return [...]string{"info", "warning", "critical"}[s]
}

// MarshalText makes a Severity read as its name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one thing a plan reader should look at.
type Finding struct {
	Node     int      `json:"node"` // Node.ID; 0 for the statement as a whole
	Kind     string   `json:"kind"` // time, misestimate, filter, spill, heap-fetches, trigger
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Thresholds of the findings, as the plan viewers use them.
var (
	// TimeShares are the shares of execution time (exclusive) that make a
	// node notable, a warning and critical.
	TimeShares = [3]float64{0.10, 0.40, 0.90}
	// EstimateFactors are the row misestimates that matter, at the same
	// three severities.
	EstimateFactors = [3]float64{10, 100, 1000}
)

// filteredMin is the number of removed rows below which a filtering
// sequential scan is not worth a finding: scanning a small table is cheap.
const filteredMin = 1000

func findings(p *Plan) []Finding {
	var fs []Finding
	for _, n := range p.Nodes {
		fs = append(fs, nodeFindings(p, n)...)
	}
	fs = append(fs, triggerFindings(p)...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity > fs[j].Severity })
	return fs
}

func nodeFindings(p *Plan, n *Node) []Finding {
	var fs []Finding
	add := func(kind string, sev Severity, format string, args ...any) {
		fs = append(fs, Finding{Node: n.ID, Kind: kind, Severity: sev,
			Message: fmt.Sprintf(format, args...)})
	}
	if p.Analyzed && p.Total > 0 {
		share := n.Exclusive / p.Total
		if sev, ok := level(share, TimeShares); ok {
			add("time", sev, "%s takes %.1f%% of the execution time (%s ms of its own)",
				n.Label(), 100*share, fmtMs(n.Exclusive))
		}
	}
	if sev, ok := level(n.EstimateFactor, EstimateFactors); ok && !stoppedEarly(n) {
		add("misestimate", sev, "%s: the planner expected %s per loop, got %s (%s-estimated ×%s); "+
			"check the statistics (ANALYZE) of the tables involved",
			n.Label(), rows(n.PlanRows), fmtCount(n.ActualRows), n.EstimateDir, fmtFactor(n.EstimateFactor))
	}
	if n.Type == "Seq Scan" && n.Executed() {
		removed := n.RowsRemovedByFilter * n.Loops
		kept := n.ActualRows * n.Loops
		if removed >= filteredMin && removed > kept {
			add("filter", Warning, "%s reads %s rows and its filter removes %s of them (%.1f%%); "+
				"an index on the filtered columns may help",
				n.Label(), fmtCount(removed+kept), fmtCount(removed), 100*removed/(removed+kept))
		}
	}
	if spill := spillText(n); spill != "" {
		add("spill", Warning, "%s spills to disk (%s); raise work_mem or reduce the rows it handles",
			n.Label(), spill)
	}
	if n.Type == "Index Only Scan" && n.HeapFetches > 0 {
		sev := Info
		if n.HeapFetches*2 >= n.ActualRows*n.Loops {
			sev = Warning
		}
		add("heap-fetches", sev, "%s fetched %s rows from the table (visibility map not current); "+
			"VACUUM the table to make the scan index-only again", n.Label(), fmtCount(n.HeapFetches))
	}
	return fs
}

// level returns the severity of v against three ascending thresholds.
func level(v float64, t [3]float64) (Severity, bool) {
	switch {
	case v > t[2]:
		return Critical, true
	case v > t[1]:
		return Warning, true
	case v > t[0]:
		return Info, true
	}
	return 0, false
}

// spillText describes how a sort or hash went to disk, or returns "".
func spillText(n *Node) string {
	switch {
	case n.SortSpace == "Disk":
		return fmt.Sprintf("%s, %s kB on disk", n.SortMethod, fmtCount(n.SortSpaceUsed))
	case n.HashBatches > 1:
		return fmt.Sprintf("%s batches, planned %s", fmtCount(n.HashBatches), fmtCount(n.OrigBatches))
	case n.HashAggBatches > 1 || n.DiskUsage > 0:
		return fmt.Sprintf("%s batches, %s kB on disk", fmtCount(n.HashAggBatches), fmtCount(n.DiskUsage))
	}
	return ""
}

// stoppedEarly reports whether n returned fewer rows than planned only
// because a Limit above it stopped reading: not a misestimate.
func stoppedEarly(n *Node) bool {
	return n.EstimateDir == "over" && n.Parent != nil && n.Parent.Type == "Limit"
}

func rows(v float64) string {
	if v == 1 {
		return "1 row"
	}
	return fmtCount(v) + " rows"
}

// triggerFindings flags triggers by their share of the execution time, with
// the same thresholds as nodes: trigger time is outside every node.
func triggerFindings(p *Plan) []Finding {
	var fs []Finding
	for _, t := range p.Triggers {
		if p.Total <= 0 {
			break
		}
		share := t.Time / p.Total
		if sev, ok := level(share, TimeShares); ok {
			fs = append(fs, Finding{Kind: "trigger", Severity: sev, Message: fmt.Sprintf(
				"trigger %s on %s takes %.1f%% of the execution time (%s ms in %s calls)",
				t.Name, t.Relation, 100*share, fmtMs(t.Time), fmtCount(t.Calls))})
		}
	}
	return fs
}
