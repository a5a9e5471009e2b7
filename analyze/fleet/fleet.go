// Package fleet reviews many nodes at once: it reads each node's report
// (made here from a bundle, or elsewhere and merged as JSON), and sums
// them up by node, by recurring culprit, by finding, by any label the
// collector attached (zone, pool), and merges their mitigations so that
// the one change that would fix the most nodes comes first.
package fleet

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// The fleet's data lives with the report's (report/content), which the
// report package renders.
type (
	Node         = content.FleetNode
	Culprit      = content.FleetCulprit
	Device       = content.FleetDevice
	Summary      = content.Fleet
	Mitigation   = content.FleetMitigation
	Unreadable   = content.FleetUnreadable
	Recurring    = content.FleetRecurring
	FindingCount = content.FleetFindingCount
	ByLabel      = content.FleetByLabel
	LabelGroup   = content.FleetGroup
)

func severityRank(s string) int { return content.SeverityRank(s) }

// ParseReport reads a JSON report into a Node.
func ParseReport(source string, data []byte) (*Node, error) {
	n := &Node{}
	if err := json.Unmarshal(data, n); err != nil {
		return nil, fmt.Errorf("not a JSON report: %v", err)
	}
	if n.Schema != content.ReportSchema {
		return nil, fmt.Errorf("schema %q, want %q", n.Schema, content.ReportSchema)
	}
	n.Source = source
	return n, nil
}

// Summarize builds the fleet's view of nodes, grouped by the label by
// ("" for none).
func Summarize(nodes []*Node, unreadable []Unreadable, by string) *Summary {
	s := &Summary{Schema: content.FleetSchema, Nodes: nodes, Unreadable: unreadable, Recurring: []Recurring{}, Findings: []FindingCount{}, Mitigation: []Mitigation{}}
	if s.Unreadable == nil {
		s.Unreadable = []Unreadable{}
	}
	sort.SliceStable(s.Nodes, func(i, j int) bool {
		a, b := s.Nodes[i], s.Nodes[j]
		if a.Verdict.Problem != b.Verdict.Problem {
			return a.Verdict.Problem
		}
		if ra, rb := severityRank(a.Worst()), severityRank(b.Worst()); ra != rb {
			return ra > rb
		}
		if a.Key() != b.Key() {
			return a.Key() < b.Key()
		}
		return a.Source < b.Source
	})
	distinct := map[string]bool{}
	for _, n := range nodes {
		distinct[n.Key()] = true
		if n.Verdict.Problem {
			s.Problems++
		}
	}
	s.Distinct = len(distinct)
	s.Recurring = recurring(nodes)
	s.Findings = findingCounts(nodes)
	if by != "" {
		s.By = byLabel(nodes, by)
	}
	s.Mitigation = mitigations(nodes)
	sort.Slice(s.Unreadable, func(i, j int) bool { return s.Unreadable[i].Source < s.Unreadable[j].Source })
	return s
}

// culpritKeys are the names a node's culprit recurs by.
func culpritKeys(c *Culprit) [][2]string {
	if c == nil {
		return nil
	}
	var out [][2]string
	if c.Kind == "device" {
		return nil // a failing device is this node's own
	}
	if c.Container != "" {
		out = append(out, [2]string{"container", c.Container})
	}
	if c.Workload != "" {
		w := c.Workload
		if c.Namespace != "" {
			w = c.Namespace + "/" + w
		}
		out = append(out, [2]string{"workload", w})
	}
	if c.Image != "" {
		out = append(out, [2]string{"image", c.Image})
	}
	if len(out) == 0 && c.Comm != "" {
		out = append(out, [2]string{"program", c.Comm})
	}
	return out
}

func recurring(nodes []*Node) []Recurring {
	seen := map[[2]string]map[string]bool{}
	for _, n := range nodes {
		if !n.Verdict.Problem {
			continue
		}
		for _, k := range culpritKeys(n.Verdict.Culprit) {
			if seen[k] == nil {
				seen[k] = map[string]bool{}
			}
			seen[k][n.Key()] = true
		}
	}
	out := []Recurring{}
	for k, ns := range seen {
		if len(ns) < 2 {
			continue
		}
		out = append(out, Recurring{Kind: k[0], Name: k[1], Nodes: sortedKeys(ns)})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Nodes) != len(out[j].Nodes) {
			return len(out[i].Nodes) > len(out[j].Nodes)
		}
		if out[i].Kind != out[j].Kind {
			return kindOrder(out[i].Kind) < kindOrder(out[j].Kind)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func kindOrder(k string) int {
	return strings.Index("container workload image program", k)
}

func findingCounts(nodes []*Node) []FindingCount {
	by := map[string]*FindingCount{}
	for _, n := range nodes {
		worst := map[string]string{}
		for _, f := range n.Findings {
			if w, ok := worst[f.ID]; !ok || severityRank(f.Severity) > severityRank(w) {
				worst[f.ID] = f.Severity
			}
		}
		for id, sev := range worst {
			fc := by[id]
			if fc == nil {
				fc = &FindingCount{ID: id}
				by[id] = fc
			}
			switch sev {
			case "critical":
				fc.Critical++
				fc.Nodes++
			case "warning":
				fc.Nodes++
			default:
				fc.Info++
			}
			if n.Verdict.Primary == id {
				fc.Primary++
			}
		}
	}
	out := []FindingCount{}
	for _, fc := range by {
		out = append(out, *fc)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Nodes != b.Nodes {
			return a.Nodes > b.Nodes
		}
		if a.Primary != b.Primary {
			return a.Primary > b.Primary
		}
		if a.Info != b.Info {
			return a.Info > b.Info
		}
		return a.ID < b.ID
	})
	return out
}

func byLabel(nodes []*Node, label string) *ByLabel {
	groups := map[string]*LabelGroup{}
	primaries := map[string]map[string]int{}
	for _, n := range nodes {
		v := n.Labels[label]
		g := groups[v]
		if g == nil {
			g = &LabelGroup{Value: v}
			groups[v] = g
			primaries[v] = map[string]int{}
		}
		g.Nodes++
		if n.Verdict.Problem {
			g.Problems++
			primaries[v][n.Verdict.Primary]++
		}
		if n.Worst() == "critical" {
			g.Critical++
		}
		if d := n.WorstDevice; d != nil {
			g.MeanUtil += d.Util
			g.MeanAwaitMS += d.AwaitMS
			g.MaxUtil = max(g.MaxUtil, d.Util)
			g.MaxAwaitMS = max(g.MaxAwaitMS, d.AwaitMS)
		}
	}
	b := &ByLabel{Label: label}
	for v, g := range groups {
		g.MeanUtil /= float64(g.Nodes)
		g.MeanAwaitMS /= float64(g.Nodes)
		for id, k := range primaries[v] {
			if k > g.TopPrimaryNodes || (k == g.TopPrimaryNodes && id < g.TopPrimary) {
				g.TopPrimary, g.TopPrimaryNodes = id, k
			}
		}
		b.Groups = append(b.Groups, *g)
	}
	// Worst first: the share of nodes with a problem, then the await.
	sort.Slice(b.Groups, func(i, j int) bool {
		a, c := b.Groups[i], b.Groups[j]
		sa, sc := float64(a.Problems)/float64(a.Nodes), float64(c.Problems)/float64(c.Nodes)
		if sa != sc {
			return sa > sc
		}
		if a.MeanAwaitMS != c.MeanAwaitMS {
			return a.MeanAwaitMS > c.MeanAwaitMS
		}
		return a.Value < c.Value
	})
	return b
}

// horizonOrder puts what can be done now first.
func horizonOrder(h string) int {
	switch h {
	case "immediate":
		return 0
	case "short term":
		return 1
	}
	return 2
}

func mitigations(nodes []*Node) []Mitigation {
	type acc struct {
		m        Mitigation
		nodes    map[string]bool
		fixes    map[string]bool
		findings map[string]bool
	}
	by := map[string]*acc{}
	for _, n := range nodes {
		for _, f := range n.Findings {
			if severityRank(f.Severity) < 1 {
				continue
			}
			for _, mt := range f.Mitigations {
				a := by[mt.Action]
				if a == nil {
					a = &acc{m: Mitigation{Action: mt.Action, Horizon: mt.Horizon}, nodes: map[string]bool{}, fixes: map[string]bool{}, findings: map[string]bool{}}
					by[mt.Action] = a
				}
				if horizonOrder(mt.Horizon) < horizonOrder(a.m.Horizon) {
					a.m.Horizon = mt.Horizon
				}
				a.nodes[n.Key()] = true
				if f.ID == n.Verdict.Primary {
					a.fixes[n.Key()] = true
				}
				a.findings[f.ID] = true
			}
		}
	}
	out := []Mitigation{}
	for _, a := range by {
		a.m.Nodes, a.m.Fixes, a.m.Findings = sortedKeys(a.nodes), sortedKeys(a.fixes), sortedKeys(a.findings)
		out = append(out, a.m)
	}
	// What fixes the most nodes' causes first, then what the most nodes
	// call for.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Fixes) != len(b.Fixes) {
			return len(a.Fixes) > len(b.Fixes)
		}
		if len(a.Nodes) != len(b.Nodes) {
			return len(a.Nodes) > len(b.Nodes)
		}
		if horizonOrder(a.Horizon) != horizonOrder(b.Horizon) {
			return horizonOrder(a.Horizon) < horizonOrder(b.Horizon)
		}
		return a.Action < b.Action
	})
	return out
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
