// Package fleet reviews many nodes at once: it reads each node's report
// (made here from a bundle, or elsewhere and merged as JSON), and sums
// them up by node, by recurring culprit, by finding, by any label the
// collector attached (zone, pool), and merges their mitigations so that
// the one change that would fix the most nodes comes first.
package fleet

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Node is what the fleet view needs of one node's report: a subset of
// the JSON report (schema iorca.report/v1).
type Node struct {
	// Source is the file the report came from (a bundle or a JSON
	// report).
	Source string            `json:"source"`
	Schema string            `json:"schema"`
	Host   string            `json:"host"`
	Name   string            `json:"node"`
	Labels map[string]string `json:"labels"`
	Bundle string            `json:"bundle"`
	Window struct {
		Start   time.Time `json:"start"`
		Seconds float64   `json:"seconds"`
	} `json:"window"`
	Verdict struct {
		Problem    bool     `json:"problem"`
		Summary    string   `json:"summary"`
		Confidence string   `json:"confidence"`
		Primary    string   `json:"primary_finding"`
		Culprit    *Culprit `json:"culprit"`
	} `json:"verdict"`
	Findings []struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Severity    string `json:"severity"`
		Mitigations []struct {
			Horizon string `json:"horizon"`
			Action  string `json:"action"`
		} `json:"mitigations"`
	} `json:"findings"`
	WorstDevice *Device `json:"worst_device"`
	Partial     bool    `json:"partial"`
}

// Culprit is a report's culprit, with the names people know.
type Culprit struct {
	Kind      string `json:"kind"`
	Device    string `json:"device"`
	Limit     string `json:"limit"`
	PID       int    `json:"pid"`
	Comm      string `json:"comm"`
	Container string `json:"container"`
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	Workload  string `json:"workload"`
	Image     string `json:"image"`
}

// Device is the busiest device of a node over its capture.
type Device struct {
	Name    string  `json:"name"`
	Util    float64 `json:"util"`
	AwaitMS float64 `json:"await_ms"`
}

// ReportSchema is the schema of the reports fleet reads.
const ReportSchema = "iorca.report/v1"

// ParseReport reads a JSON report into a Node.
func ParseReport(source string, data []byte) (*Node, error) {
	n := &Node{}
	if err := json.Unmarshal(data, n); err != nil {
		return nil, fmt.Errorf("not a JSON report: %v", err)
	}
	if n.Schema != ReportSchema {
		return nil, fmt.Errorf("schema %q, want %q", n.Schema, ReportSchema)
	}
	n.Source = source
	return n, nil
}

// Key is the node's name: the collector's node name, else its hostname.
func (n *Node) Key() string {
	if n.Name != "" {
		return n.Name
	}
	return n.Host
}

// severityRank orders severities, worst last.
func severityRank(s string) int {
	switch s {
	case "critical":
		return 2
	case "warning":
		return 1
	}
	return 0
}

// Worst is the node's worst finding severity, "" without findings.
func (n *Node) Worst() string {
	w := ""
	for _, f := range n.Findings {
		if w == "" || severityRank(f.Severity) > severityRank(w) {
			w = f.Severity
		}
	}
	return w
}

// Unreadable is an input the fleet could not read, and why.
type Unreadable struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Summary is the fleet's view.
type Summary struct {
	Schema string `json:"schema"`
	// Nodes are every report read, problems first (critical, then
	// warning), then by node name.
	Nodes []*Node `json:"nodes"`
	// Distinct is how many distinct nodes the reports are of (a node
	// captured twice has two reports); Problems counts reports.
	Distinct   int            `json:"distinct_nodes"`
	Problems   int            `json:"nodes_with_a_problem"`
	Recurring  []Recurring    `json:"recurring_culprits"`
	Findings   []FindingCount `json:"findings"`
	By         *ByLabel       `json:"by,omitempty"`
	Mitigation []Mitigation   `json:"mitigations"`
	Unreadable []Unreadable   `json:"unreadable"`
}

// FleetSchema is the schema of the fleet's JSON.
const FleetSchema = "iorca.fleet/v1"

// Recurring is a culprit found on more than one node: the same container
// name, workload (pod owner), image or, outside containers, program.
type Recurring struct {
	Kind  string   `json:"kind"`
	Name  string   `json:"name"`
	Nodes []string `json:"nodes"`
}

// FindingCount is how many nodes a finding was made on.
type FindingCount struct {
	ID string `json:"id"`
	// Nodes counts the nodes with it as a warning or worse, Critical
	// those with it critical, Primary those whose verdict rests on it,
	// Info those with it as information only.
	Nodes    int `json:"nodes"`
	Critical int `json:"critical"`
	Primary  int `json:"primary"`
	Info     int `json:"info"`
}

// ByLabel groups the nodes by one label's value.
type ByLabel struct {
	Label  string       `json:"label"`
	Groups []LabelGroup `json:"groups"`
}

// LabelGroup is the nodes sharing a label value.
type LabelGroup struct {
	// Value is the label's value, "" for the nodes without the label.
	Value    string `json:"value"`
	Nodes    int    `json:"nodes"`
	Problems int    `json:"nodes_with_a_problem"`
	Critical int    `json:"nodes_critical"`
	// TopPrimary is the most common primary finding and on how many of
	// the group's nodes.
	TopPrimary      string `json:"top_primary_finding,omitempty"`
	TopPrimaryNodes int    `json:"top_primary_nodes,omitempty"`
	// The worst devices' %util and await: the mean over the group's
	// nodes and the highest.
	MeanUtil    float64 `json:"mean_util"`
	MaxUtil     float64 `json:"max_util"`
	MeanAwaitMS float64 `json:"mean_await_ms"`
	MaxAwaitMS  float64 `json:"max_await_ms"`
}

// Mitigation is one action and the nodes whose reports call for it.
type Mitigation struct {
	Action   string   `json:"action"`
	Horizon  string   `json:"horizon"`
	Findings []string `json:"findings"`
	// Fixes are the nodes on which it answers the verdict's cause, Nodes
	// every node whose findings (warning or worse) call for it.
	Fixes []string `json:"fixes"`
	Nodes []string `json:"nodes"`
}

// Summarize builds the fleet's view of nodes, grouped by the label by
// ("" for none).
func Summarize(nodes []*Node, unreadable []Unreadable, by string) *Summary {
	s := &Summary{Schema: FleetSchema, Nodes: nodes, Unreadable: unreadable, Recurring: []Recurring{}, Findings: []FindingCount{}, Mitigation: []Mitigation{}}
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

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
