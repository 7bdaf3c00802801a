package pgstat

import (
	"encoding/json"
	"io"
)

// jsonPlan is the stable JSON form of an analyzed plan; times are in ms.
type jsonPlan struct {
	Query         string    `json:"query,omitempty"`
	Note          string    `json:"note,omitempty"`
	Analyzed      bool      `json:"analyzed"`
	PlanningMs    float64   `json:"planning_ms"`
	ExecutionMs   float64   `json:"execution_ms"`
	JITMs         float64   `json:"jit_ms,omitempty"`
	JITFunctions  int       `json:"jit_functions,omitempty"`
	Triggers      []Trigger `json:"triggers,omitempty"`
	Root          *jsonNode `json:"plan"`
	Findings      []Finding `json:"findings"`
	TotalMsForPct float64   `json:"total_ms"`
}

type jsonNode struct {
	ID             int         `json:"id"`
	Node           string      `json:"node"`
	Type           string      `json:"type"`
	Subplan        string      `json:"subplan,omitempty"`
	Executed       bool        `json:"executed"`
	ExclusiveMs    float64     `json:"exclusive_ms"`
	ExclusivePct   float64     `json:"exclusive_pct"`
	InclusiveMs    float64     `json:"inclusive_ms"`
	ActualRows     float64     `json:"actual_rows"`
	PlanRows       float64     `json:"plan_rows"`
	EstimateFactor float64     `json:"estimate_factor,omitempty"`
	EstimateDir    string      `json:"estimate_direction,omitempty"`
	Loops          float64     `json:"loops"`
	Processes      float64     `json:"processes"`
	RowsRemoved    float64     `json:"rows_removed_by_filter"`
	TotalCost      float64     `json:"total_cost"`
	ExclusiveCost  float64     `json:"exclusive_cost"`
	Buffers        jsonBuffers `json:"buffers"`
	ExclBuffers    jsonBuffers `json:"exclusive_buffers"`
	Conditions     []Condition `json:"conditions,omitempty"`
	HeapFetches    float64     `json:"heap_fetches,omitempty"`
	Spill          string      `json:"spill,omitempty"`
	Children       []*jsonNode `json:"children,omitempty"`
}

// WriteJSON renders an analyzed plan as indented JSON: the tree with every
// derived figure, and the findings.
func WriteJSON(w io.Writer, p *Plan) error {
	out := jsonPlan{
		Query: p.Query, Note: p.Note, Analyzed: p.Analyzed,
		PlanningMs: p.PlanningTime, ExecutionMs: p.ExecutionTime,
		Triggers: p.Triggers, Root: toJSON(p, p.Root), Findings: p.Findings,
		TotalMsForPct: p.Total,
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	if p.JIT != nil {
		out.JITMs, out.JITFunctions = p.JIT.Total, p.JIT.Functions
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func toJSON(p *Plan, n *Node) *jsonNode {
	j := &jsonNode{
		ID: n.ID, Node: n.Label(), Type: n.Type, Subplan: n.SubplanName, Executed: n.Executed(),
		ExclusiveMs: round3(n.Exclusive), InclusiveMs: round3(n.Inclusive),
		ActualRows: n.ActualRows, PlanRows: n.PlanRows,
		EstimateFactor: round3(n.EstimateFactor), EstimateDir: n.EstimateDir,
		Loops: n.Loops, Processes: n.Procs, RowsRemoved: n.RowsRemoved(),
		TotalCost: n.TotalCost, ExclusiveCost: round3(n.ExclusiveCost),
		Buffers: toJSONBuffers(n.Buffers), ExclBuffers: toJSONBuffers(n.ExclusiveBuffers),
		Conditions:  n.Conditions,
		HeapFetches: n.HeapFetches, Spill: spillText(n),
	}
	if p.Total > 0 {
		j.ExclusivePct = round3(100 * n.Exclusive / p.Total)
	}
	for _, c := range n.Children {
		j.Children = append(j.Children, toJSON(p, c))
	}
	return j
}

func round3(v float64) float64 {
	return float64(int64(v*1000+0.5)) / 1000
}

type jsonBuffers struct {
	Hit         float64 `json:"hit"`
	Read        float64 `json:"read"`
	Dirtied     float64 `json:"dirtied"`
	Written     float64 `json:"written"`
	TempRead    float64 `json:"temp_read"`
	TempWritten float64 `json:"temp_written"`
}

func toJSONBuffers(b Buffers) jsonBuffers {
	return jsonBuffers{Hit: b.Hit(), Read: b.Read(), Dirtied: b.SharedDirtied, Written: b.SharedWritten,
		TempRead: b.TempRead, TempWritten: b.TempWritten}
}
