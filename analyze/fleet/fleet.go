// Package fleet reviews many nodes at once: it reads each node's report
// (made here from a bundle, or elsewhere and merged as JSON), and sums
// them up by node, by recurring culprit, by finding, by any label the
// collector attached (zone, pool), and merges their mitigations so that
// the one change that would fix the most nodes comes first.
package fleet

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// Summarize builds the fleet's view of nodes, grouped by the label by
// ("" for none).
func Summarize(nodes []*content.FleetNode, unreadable []content.FleetUnreadable, by string) *content.Fleet {
	s := &content.Fleet{Schema: content.FleetSchema, Nodes: nodes, Unreadable: unreadable, Recurring: []content.FleetRecurring{},
		Findings: []content.FleetFindingCount{}, Mitigation: []content.FleetMitigation{}}
	if s.Unreadable == nil {
		s.Unreadable = []content.FleetUnreadable{}
	}
	sort.SliceStable(s.Nodes, func(i, j int) bool {
		a, b := s.Nodes[i], s.Nodes[j]
		if a.Verdict.Problem != b.Verdict.Problem {
			return a.Verdict.Problem
		}
		if wa, wb := a.Worst(), b.Worst(); wa != wb {
			return wa > wb
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
func culpritKeys(c *content.FleetCulprit) [][2]string {
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

func recurring(nodes []*content.FleetNode) []content.FleetRecurring {
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
	out := []content.FleetRecurring{}
	for k, ns := range seen {
		if len(ns) < 2 {
			continue
		}
		out = append(out, content.FleetRecurring{Kind: k[0], Name: k[1], Nodes: sortedKeys(ns)})
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

func findingCounts(nodes []*content.FleetNode) []content.FleetFindingCount {
	by := map[string]*content.FleetFindingCount{}
	for _, n := range nodes {
		worst := map[string]content.Severity{}
		for _, f := range n.Findings {
			if w, ok := worst[f.ID]; !ok || f.Severity > w {
				worst[f.ID] = f.Severity
			}
		}
		for id, sev := range worst {
			fc := by[id]
			if fc == nil {
				fc = &content.FleetFindingCount{ID: id}
				by[id] = fc
			}
			switch sev {
			case content.Critical:
				fc.Critical++
				fc.Nodes++
			case content.Warning:
				fc.Nodes++
			default:
				fc.Info++
			}
			if n.Verdict.Primary == id {
				fc.Primary++
			}
		}
	}
	out := []content.FleetFindingCount{}
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

func byLabel(nodes []*content.FleetNode, label string) *content.FleetByLabel {
	groups := map[string]*content.FleetGroup{}
	primaries := map[string]map[string]int{}
	for _, n := range nodes {
		v := n.Labels[label]
		g := groups[v]
		if g == nil {
			g = &content.FleetGroup{Value: v}
			groups[v] = g
			primaries[v] = map[string]int{}
		}
		g.Nodes++
		if n.Verdict.Problem {
			g.Problems++
			primaries[v][n.Verdict.Primary]++
		}
		if n.Worst() == content.Critical {
			g.Critical++
		}
		if d := n.WorstDevice; d != nil {
			g.MeanUtil += d.Util
			g.MeanAwaitMS += d.AwaitMS
			g.MaxUtil = max(g.MaxUtil, d.Util)
			g.MaxAwaitMS = max(g.MaxAwaitMS, d.AwaitMS)
		}
	}
	b := &content.FleetByLabel{Label: label}
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

func mitigations(nodes []*content.FleetNode) []content.FleetMitigation {
	type acc struct {
		m        content.FleetMitigation
		nodes    map[string]bool
		fixes    map[string]bool
		findings map[string]bool
	}
	by := map[string]*acc{}
	for _, n := range nodes {
		for _, f := range n.Findings {
			if f.Severity < content.Warning {
				continue
			}
			for _, mt := range f.Mitigations {
				a := by[mt.Action]
				if a == nil {
					a = &acc{m: content.FleetMitigation{Action: mt.Action, Horizon: mt.Horizon}, nodes: map[string]bool{}, fixes: map[string]bool{}, findings: map[string]bool{}}
					by[mt.Action] = a
				}
				if mt.Horizon.Rank() < a.m.Horizon.Rank() {
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
	out := []content.FleetMitigation{}
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
		if a.Horizon.Rank() != b.Horizon.Rank() {
			return a.Horizon.Rank() < b.Horizon.Rank()
		}
		return a.Action < b.Action
	})
	return out
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
