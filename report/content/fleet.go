package content

import "time"

// The fleet review's data (iorca fleet): what analyze/fleet decides,
// which report renders.

// FleetNode is one node of the fleet review (its JSON is the fleet's,
// schema FleetSchema, under "nodes"): what the review needs of the node's
// report, filled from the report's content (analyze/fleet.NodeOf).
type FleetNode struct {
	// Source is the file the report came from (a bundle or a JSON
	// report).
	Source string `json:"source"`
	// Schema is ReportSchema, the schema of the report the node sums
	// up.
	Schema string            `json:"schema"`
	Host   string            `json:"host"`
	Name   string            `json:"node"`
	Labels map[string]string `json:"labels"`
	Bundle string            `json:"bundle"`
	Window FleetWindow       `json:"window"`
	// Verdict is the report's verdict; Findings are its findings, nil
	// when the report's are.
	Verdict     FleetVerdict   `json:"verdict"`
	Findings    []FleetFinding `json:"findings"`
	WorstDevice *FleetDevice   `json:"worst_device"`
	Partial     bool           `json:"partial"`
	// Alerts are the alert rules the node's report proposes (iorca fleet
	// --alert-rules merges them; not part of the fleet's JSON).
	Alerts []Alert `json:"-"`
}

// FleetWindow is when a node was captured, and for how long.
type FleetWindow struct {
	Start   time.Time `json:"start"`
	Seconds float64   `json:"seconds"`
	BootID  string    `json:"boot_id,omitempty"`
}

// FleetVerdict is a node's verdict: whether it has a problem, the
// finding it rests on and who is to blame.
type FleetVerdict struct {
	Problem    bool          `json:"problem"`
	Summary    string        `json:"summary"`
	Confidence Confidence    `json:"confidence"`
	Primary    string        `json:"primary_finding"`
	Culprit    *FleetCulprit `json:"culprit"`
}

// FleetFinding is one finding of a node, with the mitigations the review
// merges over nodes (nil when the report's are).
type FleetFinding struct {
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Severity    Severity      `json:"severity"`
	Mitigations []FleetAction `json:"mitigations"`
}

// FleetAction is one mitigation of a node's finding: what to do, and
// when.
type FleetAction struct {
	Horizon Horizon `json:"horizon"`
	Action  string  `json:"action"`
}

// FleetCulprit is a report's culprit, with the names people know.
type FleetCulprit struct {
	Kind      string `json:"kind"`
	Device    string `json:"device"`
	Limit     string `json:"limit"`
	LimitKind string `json:"limit_kind,omitempty"`
	PID       int    `json:"pid"`
	Comm      string `json:"comm"`
	Container string `json:"container"`
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	Workload  string `json:"workload"`
	Image     string `json:"image"`
}

// FleetDevice is the busiest device of a node over its capture.
type FleetDevice struct {
	Name    string  `json:"name"`
	Util    float64 `json:"util"`
	AwaitMS float64 `json:"await_ms"`
}

// Key is the node's name: the collector's node name, else its hostname.
func (n *FleetNode) Key() string {
	if n.Name != "" {
		return n.Name
	}
	return n.Host
}

// Worst is the node's worst finding severity, Info without findings.
func (n *FleetNode) Worst() Severity {
	w := Info
	for _, f := range n.Findings {
		w = max(w, f.Severity)
	}
	return w
}

// FleetUnreadable is an input the fleet could not read, and why.
type FleetUnreadable struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Fleet is the fleet's view.
type Fleet struct {
	Schema string `json:"schema"`
	// Nodes are every report read, problems first (critical, then
	// warning), then by node name.
	Nodes []*FleetNode `json:"nodes"`
	// Distinct is how many distinct nodes the reports are of (a node
	// captured twice has two reports); Problems counts reports.
	Distinct   int                 `json:"distinct_nodes"`
	Problems   int                 `json:"nodes_with_a_problem"`
	Recurring  []FleetRecurring    `json:"recurring_culprits"`
	Findings   []FleetFindingCount `json:"findings"`
	By         *FleetByLabel       `json:"by,omitempty"`
	Mitigation []FleetMitigation   `json:"mitigations"`
	Unreadable []FleetUnreadable   `json:"unreadable"`
	// Duplicates are inputs of a capture already read (the same bundle
	// twice, or a bundle and its JSON report): counted once, as the
	// first of them.
	Duplicates []FleetDuplicate `json:"duplicates"`
}

// FleetDuplicate is an input left out as a copy of another.
type FleetDuplicate struct {
	Source string `json:"source"`
	SameAs string `json:"same_as"`
}

// FleetRecurring is a culprit found on more than one node: the same container
// name, workload (pod owner), image or, outside containers, program.
type FleetRecurring struct {
	Kind  string   `json:"kind"`
	Name  string   `json:"name"`
	Nodes []string `json:"nodes"`
}

// FleetFindingCount is how many nodes a finding was made on.
type FleetFindingCount struct {
	ID string `json:"id"`
	// Nodes counts the nodes with it as a warning or worse, Critical
	// those with it critical, Primary those whose verdict rests on it,
	// Info those with it as information only.
	Nodes    int `json:"nodes"`
	Critical int `json:"critical"`
	Primary  int `json:"primary"`
	Info     int `json:"info"`
}

// FleetByLabel groups the nodes by one label's value.
type FleetByLabel struct {
	Label  string       `json:"label"`
	Groups []FleetGroup `json:"groups"`
}

// FleetGroup is the nodes sharing a label value.
type FleetGroup struct {
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

// FleetMitigation is one action and the nodes whose reports call for it.
type FleetMitigation struct {
	Action   string   `json:"action"`
	Horizon  Horizon  `json:"horizon"`
	Findings []string `json:"findings"`
	// Fixes are the nodes on which it answers the verdict's cause, Nodes
	// every node whose findings (warning or worse) call for it.
	Fixes []string `json:"fixes"`
	Nodes []string `json:"nodes"`
}
