package pgstat

import (
	"math"
	"regexp"
	"strings"
)

// Analyze computes every node's derived figures and the plan's findings.
// Parse calls it; call it again after editing a Plan by hand.
func Analyze(p *Plan) {
	if p.Root == nil {
		return
	}
	setProcs(p.Root, 1)
	for _, n := range p.Nodes {
		n.Inclusive = n.ActualTotal * n.Loops / n.Procs
		n.EstimateFactor, n.EstimateDir = estimate(n)
	}
	for _, n := range p.Nodes {
		n.Exclusive = n.Inclusive - childTime(n)
		n.ExclusiveCost = n.TotalCost - childCost(n)
		n.ExclusiveBuffers = n.Buffers.minus(childBuffers(n))
	}
	subtractInitPlans(p)
	for _, n := range p.Nodes {
		n.Exclusive = math.Max(n.Exclusive, 0)
		n.ExclusiveCost = math.Max(n.ExclusiveCost, 0)
	}
	p.Total = p.ExecutionTime
	if p.Total <= 0 {
		p.Total = p.Root.Inclusive
	}
	p.Findings = findings(p)
}

// setProcs marks the nodes below a Gather with the number of processes that
// share their loops. InitPlans, SubPlans and CTEs run in the leader only.
func setProcs(n *Node, procs float64) {
	n.Procs = procs
	for _, c := range n.Children {
		cp := procs
		if isSubplan(c) {
			cp = 1
		} else if n.Type == "Gather" || n.Type == "Gather Merge" {
			cp = float64(n.WorkersLaunched + 1)
		}
		setProcs(c, cp)
	}
}

func isSubplan(n *Node) bool {
	return n.ParentRelationship == "InitPlan" || n.ParentRelationship == "SubPlan"
}

func isInitPlan(n *Node) bool { return n.ParentRelationship == "InitPlan" }

// isCTE reports whether n is the top of a CTE's plan.
func isCTE(n *Node) bool {
	return isInitPlan(n) && strings.HasPrefix(n.SubplanName, "CTE ")
}

// childTime is the time of n's children that ran inside n: everything but
// InitPlans, which subtractInitPlans places.
func childTime(n *Node) float64 {
	var t float64
	for _, c := range n.Children {
		if !isInitPlan(c) {
			t += c.Inclusive
		}
	}
	return t
}

func childCost(n *Node) float64 {
	var t float64
	for _, c := range n.Children {
		if !isInitPlan(c) {
			t += c.TotalCost
		}
	}
	return t
}

// childBuffers sums the children's buffers the way pev2 does: subplans
// (InitPlans, SubPlans, CTEs) are not part of a node's reported buffers.
func childBuffers(n *Node) Buffers {
	var b Buffers
	for _, c := range n.Children {
		if c.SubplanName == "" {
			b = b.plus(c.Buffers)
		}
	}
	return b
}

// subtractInitPlans takes each InitPlan's time off the node that ran it: the
// CTE Scans of a CTE, or the first node that evaluates an InitPlan's
// parameter.
func subtractInitPlans(p *Plan) {
	for _, n := range p.Nodes {
		if !isInitPlan(n) || n.Inclusive == 0 {
			continue
		}
		if isCTE(n) {
			name := strings.TrimPrefix(n.SubplanName, "CTE ")
			left := n.Inclusive
			for _, s := range p.Nodes {
				if s.Type == "CTE Scan" && s.CTEName == name && left > 0 {
					take := math.Min(left, math.Max(s.Exclusive, 0))
					s.Exclusive -= take
					left -= take
				}
			}
			continue
		}
		user := paramUser(n)
		user.Exclusive -= n.Inclusive
	}
}

var initPlanParams = regexp.MustCompile(`\$\d+`)

// paramUser finds the node that evaluated the InitPlan ip: the first node
// of the attaching subtree, outside ip itself, whose expressions name one of
// ip's parameters ("$0" before PostgreSQL 16, "(InitPlan 1)" after).
func paramUser(ip *Node) *Node {
	owner := ip.Parent
	refs := initPlanParams.FindAllString(ip.SubplanName, -1)
	if i := strings.Index(ip.SubplanName, " ("); i > 0 || len(refs) == 0 {
		name := ip.SubplanName
		if i > 0 {
			name = name[:i]
		}
		refs = append(refs, "("+name+")")
	}
	var found *Node
	var walk func(n *Node)
	walk = func(n *Node) {
		if found != nil || n == ip {
			return
		}
		if mentions(n, refs) {
			found = n
			return
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(owner)
	if found == nil {
		return owner
	}
	return found
}

func mentions(n *Node, refs []string) bool {
	for _, c := range n.Conditions {
		for _, r := range refs {
			if containsToken(c.Expr, r) {
				return true
			}
		}
	}
	return false
}

// containsToken reports whether s contains ref not followed by a digit, so
// that "$1" does not match "$10".
func containsToken(s, ref string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], ref)
		if j < 0 {
			return false
		}
		end := i + j + len(ref)
		if end == len(s) || s[end] < '0' || s[end] > '9' {
			return true
		}
		i = end
	}
}

// estimate compares actual and planned rows per loop. The factor is always
// ≥ 1; the smaller side counts as at least one row so that a node that
// returned nothing does not read as an infinite misestimate.
func estimate(n *Node) (float64, string) {
	if !n.Executed() {
		return 0, ""
	}
	a, e := n.ActualRows, n.PlanRows
	switch {
	case a > e:
		return a / math.Max(e, 1), "under"
	case a < e && e > 1:
		return e / math.Max(a, 1), "over"
	}
	return 1, ""
}
