package pgstat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Plan is one EXPLAIN result: the node tree, the statement-level timings and,
// after Analyze, the per-node figures and findings.
type Plan struct {
	Root          *Node
	PlanningTime  float64 // ms; 0 when not reported
	ExecutionTime float64 // ms; 0 without ANALYZE
	Triggers      []Trigger
	JIT           *JIT
	Planning      Buffers // buffers used by planning (PG 13+ with BUFFERS)

	// Analyzed is true when the plan carries actual times (EXPLAIN ANALYZE).
	Analyzed bool
	// Total is the denominator of the time percentages: ExecutionTime, or
	// the root's inclusive time when the server did not report it.
	Total float64
	// Nodes lists every node in plan order; Nodes[i].ID == i+1.
	Nodes []*Node
	// Findings are the flags raised by Analyze, most severe first.
	Findings []Finding

	// Query and Note are set by the caller: the statement that was
	// explained, and how it ran ("rolled back").
	Query string
	Note  string
}

// Trigger is the time spent in one trigger, from EXPLAIN ANALYZE.
type Trigger struct {
	Name     string  `json:"Trigger Name"`
	Relation string  `json:"Relation"`
	Time     float64 `json:"Time"`
	Calls    float64 `json:"Calls"`
}

// JIT is the JIT compilation summary of a plan.
type JIT struct {
	Functions int
	Total     float64 // ms, all phases
}

// Buffers are block counts: shared, local and temporary.
type Buffers struct {
	SharedHit     float64 `json:"Shared Hit Blocks"`
	SharedRead    float64 `json:"Shared Read Blocks"`
	SharedDirtied float64 `json:"Shared Dirtied Blocks"`
	SharedWritten float64 `json:"Shared Written Blocks"`
	LocalHit      float64 `json:"Local Hit Blocks"`
	LocalRead     float64 `json:"Local Read Blocks"`
	TempRead      float64 `json:"Temp Read Blocks"`
	TempWritten   float64 `json:"Temp Written Blocks"`
}

// Hit is the blocks found in a buffer cache (shared and local).
func (b Buffers) Hit() float64 { return b.SharedHit + b.LocalHit }

// Read is the blocks read from the operating system (shared and local).
func (b Buffers) Read() float64 { return b.SharedRead + b.LocalRead }

// Temp is the temporary blocks read and written (spills to disk).
func (b Buffers) Temp() float64 { return b.TempRead + b.TempWritten }

func (b Buffers) minus(c Buffers) Buffers {
	return Buffers{
		SharedHit: b.SharedHit - c.SharedHit, SharedRead: b.SharedRead - c.SharedRead,
		SharedDirtied: b.SharedDirtied - c.SharedDirtied, SharedWritten: b.SharedWritten - c.SharedWritten,
		LocalHit: b.LocalHit - c.LocalHit, LocalRead: b.LocalRead - c.LocalRead,
		TempRead: b.TempRead - c.TempRead, TempWritten: b.TempWritten - c.TempWritten,
	}
}

func (b Buffers) plus(c Buffers) Buffers {
	return b.minus(Buffers{}.minus(c))
}

// Node is one plan node: what the server reported, and (after Analyze) the
// derived figures.
type Node struct {
	ID       int
	Depth    int
	Parent   *Node
	Children []*Node

	Type               string // "Seq Scan", "Hash Join", …
	Strategy           string // Aggregate/SetOp: Plain, Sorted, Hashed, Mixed
	PartialMode        string // Partial, Finalize, Simple
	Operation          string // ModifyTable: Insert, Update, Delete, Merge
	JoinType           string
	ParallelAware      bool
	Relation           string
	Schema             string
	Alias              string
	Index              string
	CTEName            string
	Function           string
	ParentRelationship string // Outer, Inner, InitPlan, SubPlan, Member …
	SubplanName        string // "CTE big", "InitPlan 1 (returns $0)", "SubPlan 2"

	StartupCost, TotalCost float64
	PlanRows               float64 // per loop
	ActualStartup          float64 // ms per loop, as reported
	ActualTotal            float64 // ms per loop, as reported
	ActualRows             float64 // per loop
	Loops                  float64
	WorkersPlanned         int
	WorkersLaunched        int

	// Conditions holds the node's expressions, in a fixed order:
	// "Index Cond", "Filter", "Hash Cond" …
	Conditions []Condition

	RowsRemovedByFilter      float64 // per loop, as reported
	RowsRemovedByJoinFilter  float64
	RowsRemovedByRecheck     float64
	HeapFetches              float64 // total, as reported
	SortMethod, SortSpace    string
	SortSpaceUsed            float64 // kB
	HashBatches, OrigBatches float64
	PeakMemory               float64 // kB (Hash, HashAggregate)
	HashAggBatches           float64
	DiskUsage                float64 // kB (HashAggregate)
	Buffers                  Buffers // inclusive, as reported

	// Derived by Analyze.
	Procs            float64 // processes sharing the loops (1 outside Gather)
	Inclusive        float64 // ms, loops and workers accounted for
	Exclusive        float64 // ms, children subtracted
	ExclusiveCost    float64
	ExclusiveBuffers Buffers
	EstimateFactor   float64 // ≥ 1; how far the row estimate was off
	EstimateDir      string  // "under" (more rows than planned), "over", or ""
}

// Condition is one expression of a node, such as Filter or Index Cond.
type Condition struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// Executed reports whether the node ran at least once. A node that was never
// executed (the other side of a join that returned nothing) has no times.
func (n *Node) Executed() bool { return n.Loops > 0 }

// RowsRemoved is the total number of rows the node's filters removed,
// across loops.
func (n *Node) RowsRemoved() float64 {
	return (n.RowsRemovedByFilter + n.RowsRemovedByJoinFilter) * n.Loops
}

// rawNode mirrors the JSON keys of one EXPLAIN node.
type rawNode struct {
	NodeType           string    `json:"Node Type"`
	Strategy           string    `json:"Strategy"`
	PartialMode        string    `json:"Partial Mode"`
	Operation          string    `json:"Operation"`
	JoinType           string    `json:"Join Type"`
	ParallelAware      bool      `json:"Parallel Aware"`
	Relation           string    `json:"Relation Name"`
	Schema             string    `json:"Schema"`
	Alias              string    `json:"Alias"`
	Index              string    `json:"Index Name"`
	CTEName            string    `json:"CTE Name"`
	Function           string    `json:"Function Name"`
	ParentRelationship string    `json:"Parent Relationship"`
	SubplanName        string    `json:"Subplan Name"`
	StartupCost        float64   `json:"Startup Cost"`
	TotalCost          float64   `json:"Total Cost"`
	PlanRows           float64   `json:"Plan Rows"`
	ActualStartup      *float64  `json:"Actual Startup Time"`
	ActualTotal        *float64  `json:"Actual Total Time"`
	ActualRows         *float64  `json:"Actual Rows"`
	Loops              *float64  `json:"Actual Loops"`
	WorkersPlanned     int       `json:"Workers Planned"`
	WorkersLaunched    *int      `json:"Workers Launched"`
	IndexCond          string    `json:"Index Cond"`
	RecheckCond        string    `json:"Recheck Cond"`
	HashCond           string    `json:"Hash Cond"`
	MergeCond          string    `json:"Merge Cond"`
	JoinFilter         string    `json:"Join Filter"`
	Filter             string    `json:"Filter"`
	SortKey            []string  `json:"Sort Key"`
	GroupKey           []string  `json:"Group Key"`
	RemovedByFilter    float64   `json:"Rows Removed by Filter"`
	RemovedByJoin      float64   `json:"Rows Removed by Join Filter"`
	RemovedByRecheck   float64   `json:"Rows Removed by Index Recheck"`
	HeapFetches        float64   `json:"Heap Fetches"`
	SortMethod         string    `json:"Sort Method"`
	SortSpaceType      string    `json:"Sort Space Type"`
	SortSpaceUsed      float64   `json:"Sort Space Used"`
	HashBatches        float64   `json:"Hash Batches"`
	OrigHashBatches    float64   `json:"Original Hash Batches"`
	PeakMemory         float64   `json:"Peak Memory Usage"`
	HashAggBatches     float64   `json:"HashAgg Batches"`
	DiskUsage          float64   `json:"Disk Usage"`
	Plans              []rawNode `json:"Plans"`
	Buffers
}

type rawPlan struct {
	Plan          *rawNode        `json:"Plan"`
	PlanningTime  float64         `json:"Planning Time"`
	ExecutionTime float64         `json:"Execution Time"`
	TotalRuntime  float64         `json:"Total Runtime"` // before PG 9.4
	Triggers      []Trigger       `json:"Triggers"`
	JIT           json.RawMessage `json:"JIT"`
	Planning      Buffers         `json:"Planning"`
}

// ErrNotJSONPlan is returned by Parse for input that is not a JSON plan.
var ErrNotJSONPlan = errors.New("not an EXPLAIN (FORMAT JSON) plan")

// Parse reads a JSON plan as printed by EXPLAIN (FORMAT JSON): the server's
// array, a bare object, or the same pasted from psql with its "QUERY PLAN"
// header and "+" line continuations. It returns the plan analyzed.
func Parse(data []byte) (*Plan, error) {
	raw, err := decode(data)
	if err != nil {
		return nil, err
	}
	if raw.Plan == nil {
		return nil, fmt.Errorf("%w: no \"Plan\" key", ErrNotJSONPlan)
	}
	p := &Plan{
		PlanningTime:  raw.PlanningTime,
		ExecutionTime: raw.ExecutionTime,
		Triggers:      raw.Triggers,
		Planning:      raw.Planning,
	}
	if p.ExecutionTime == 0 {
		p.ExecutionTime = raw.TotalRuntime
	}
	if j, err := parseJIT(raw.JIT); err == nil {
		p.JIT = j
	}
	p.Root = p.build(raw.Plan, nil, 0)
	Analyze(p)
	return p, nil
}

func decode(data []byte) (*rawPlan, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the input is empty", ErrNotJSONPlan)
	}
	if data[0] != '[' && data[0] != '{' {
		data = cleanPasted(data)
	}
	var list []rawPlan
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotJSONPlan, err)
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%w: the array is empty", ErrNotJSONPlan)
		}
		return &list[0], nil
	}
	var one rawPlan
	if err := json.Unmarshal(data, &one); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotJSONPlan, err)
	}
	return &one, nil
}

var (
	psqlContinuation = regexp.MustCompile(`[ \t]*\+[ \t]*\r?\n`)
	psqlRowCount     = regexp.MustCompile(`(?m)^\(\d+ rows?\)\s*$`)
)

// cleanPasted strips what psql prints around a JSON plan: the column
// header, the dashed rule, "+" continuations and the row count.
func cleanPasted(data []byte) []byte {
	s := psqlContinuation.ReplaceAllString(string(data), "\n")
	s = psqlRowCount.ReplaceAllString(s, "")
	if i := strings.IndexAny(s, "[{"); i >= 0 {
		s = s[i:]
	} else {
		return nil
	}
	return []byte(strings.TrimSpace(s))
}

func parseJIT(msg json.RawMessage) (*JIT, error) {
	if len(msg) == 0 {
		return nil, errors.New("no JIT")
	}
	var j struct {
		Functions int                        `json:"Functions"`
		Timing    map[string]json.RawMessage `json:"Timing"`
	}
	if err := json.Unmarshal(msg, &j); err != nil {
		return nil, err
	}
	var total float64
	if t, ok := j.Timing["Total"]; ok {
		if err := json.Unmarshal(t, &total); err != nil {
			return nil, err
		}
	}
	return &JIT{Functions: j.Functions, Total: total}, nil
}

func (p *Plan) build(r *rawNode, parent *Node, depth int) *Node {
	n := &Node{
		ID: len(p.Nodes) + 1, Depth: depth, Parent: parent,
		Type: r.NodeType, Strategy: r.Strategy, PartialMode: r.PartialMode,
		Operation: r.Operation, JoinType: r.JoinType, ParallelAware: r.ParallelAware,
		Relation: r.Relation, Schema: r.Schema, Alias: r.Alias, Index: r.Index,
		CTEName: r.CTEName, Function: r.Function,
		ParentRelationship: r.ParentRelationship, SubplanName: r.SubplanName,
		StartupCost: r.StartupCost, TotalCost: r.TotalCost, PlanRows: r.PlanRows,
		WorkersPlanned:      r.WorkersPlanned,
		RowsRemovedByFilter: r.RemovedByFilter, RowsRemovedByJoinFilter: r.RemovedByJoin,
		RowsRemovedByRecheck: r.RemovedByRecheck, HeapFetches: r.HeapFetches,
		SortMethod: r.SortMethod, SortSpace: r.SortSpaceType, SortSpaceUsed: r.SortSpaceUsed,
		HashBatches: r.HashBatches, OrigBatches: r.OrigHashBatches, PeakMemory: r.PeakMemory,
		HashAggBatches: r.HashAggBatches, DiskUsage: r.DiskUsage,
		Buffers: r.Buffers, Procs: 1,
	}
	if r.WorkersLaunched != nil {
		n.WorkersLaunched = *r.WorkersLaunched
	} else {
		n.WorkersLaunched = r.WorkersPlanned
	}
	if r.ActualTotal != nil || r.Loops != nil {
		p.Analyzed = true
		n.ActualStartup, n.ActualTotal = deref(r.ActualStartup), deref(r.ActualTotal)
		n.ActualRows, n.Loops = deref(r.ActualRows), deref(r.Loops)
	}
	n.Conditions = conditions(r)
	p.Nodes = append(p.Nodes, n)
	for i := range r.Plans {
		n.Children = append(n.Children, p.build(&r.Plans[i], n, depth+1))
	}
	return n
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func conditions(r *rawNode) []Condition {
	var cs []Condition
	add := func(name, expr string) {
		if expr != "" {
			cs = append(cs, Condition{name, expr})
		}
	}
	add("Index Cond", r.IndexCond)
	add("Recheck Cond", r.RecheckCond)
	add("Hash Cond", r.HashCond)
	add("Merge Cond", r.MergeCond)
	add("Join Filter", r.JoinFilter)
	add("Filter", r.Filter)
	add("Sort Key", strings.Join(r.SortKey, ", "))
	add("Group Key", strings.Join(r.GroupKey, ", "))
	return cs
}

// Label is the node's name as EXPLAIN's text format prints it:
// "Parallel Seq Scan on orders o", "Hash Left Join", "HashAggregate".
func (n *Node) Label() string {
	name := n.Type
	switch n.Type {
	case "Aggregate":
		name = map[string]string{"Hashed": "HashAggregate", "Sorted": "GroupAggregate",
			"Mixed": "MixedAggregate"}[n.Strategy]
		if name == "" {
			name = "Aggregate"
		}
	case "SetOp":
		if n.Strategy == "Hashed" {
			name = "HashSetOp"
		}
	case "ModifyTable":
		if n.Operation != "" {
			name = n.Operation
		}
	}
	if n.JoinType != "" && n.JoinType != "Inner" {
		name = strings.TrimSuffix(name, " Join") + " " + n.JoinType + " Join"
	}
	if n.PartialMode != "" && n.PartialMode != "Simple" {
		name = n.PartialMode + " " + name
	}
	if n.ParallelAware {
		name = "Parallel " + name
	}
	return name + n.target()
}

func (n *Node) target() string {
	var s string
	if n.Index != "" {
		s += " using " + n.Index
	}
	obj := n.Relation
	if obj == "" {
		obj = n.CTEName
	}
	if obj == "" {
		obj = n.Function
	}
	if obj != "" {
		s += " on " + obj
		if n.Alias != "" && n.Alias != obj {
			s += " " + n.Alias
		}
	} else if n.Alias != "" && n.Type == "Subquery Scan" {
		s += " on " + n.Alias
	}
	return s
}
