package fleet

import (
	"reflect"
	"slices"
	"testing"

	"github.com/iorca/iorca/report/content"
)

// node is the fleet node of a sample's report, varied by hand: the
// samples were all captured on one host ("vm") with no labels, so each
// is made a node of its own, named name, with labels.
func node(t *testing.T, sample, name string, labels map[string]string) *content.FleetNode {
	t.Helper()
	rc := *sampleReport(t, sample)
	rc.Node, rc.Labels = name, labels
	return NodeOf(sample+".tar.zst", &rc)
}

// keys are the nodes' names, in order.
func keys(nodes []*content.FleetNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Key())
	}
	return out
}

// The samples as they are, every one a capture of the same host: one
// distinct node, problems first (a critical finding before a warning),
// findings counted per capture, nothing recurring (a culprit recurs on
// nodes, not on captures of one node).
func TestSummarizeSamples(t *testing.T) {
	var nodes []*content.FleetNode
	problems := 0
	for _, name := range sampleNames(t) {
		n := NodeOf(name+".tar.zst", sampleReport(t, name))
		nodes = append(nodes, n)
		if n.Verdict.Problem {
			problems++
		}
	}
	s := Summarize(slices.Clone(nodes), nil, "")
	if s.Schema != content.FleetSchema || s.Distinct != 1 || s.Problems != problems || len(s.Nodes) != len(nodes) || problems == 0 || problems == len(nodes) {
		t.Errorf("schema %q, %d distinct, %d of %d with a problem; want %q, 1, %d of %d", s.Schema, s.Distinct, s.Problems, len(s.Nodes), content.FleetSchema, problems, len(nodes))
	}
	for i := 1; i < len(s.Nodes); i++ {
		a, b := s.Nodes[i-1], s.Nodes[i]
		if a.Verdict.Problem == b.Verdict.Problem && (a.Worst() < b.Worst() || a.Worst() == b.Worst() && a.Source > b.Source) || !a.Verdict.Problem && b.Verdict.Problem {
			t.Errorf("%s (problem %v, %s) before %s (problem %v, %s)", a.Source, a.Verdict.Problem, a.Worst(), b.Source, b.Verdict.Problem, b.Worst())
		}
	}
	if len(s.Recurring) != 0 || s.By != nil || s.Unreadable == nil || len(s.Unreadable) != 0 {
		t.Errorf("recurring %+v, by %+v, unreadable %#v; want none, none, empty", s.Recurring, s.By, s.Unreadable)
	}
	// sync-writes: a warning on four samples (three on ext4, one on XFS)
	// and the verdict's cause there; info on failing-disk, whose synchronous writes all failed
	// (the failing device is the cause).
	for _, f := range s.Findings {
		if f.ID == "sync-writes" && (f.Nodes != 4 || f.Primary != 4 || f.Critical != 0 || f.Info != 1) {
			t.Errorf("sync-writes counted %+v, want a warning on 4 nodes, the cause on 4, info on 1", f)
		}
	}
}

// A culprit recurs by the names people know it by, on two nodes or more:
// the access logger's container web-7 on three samples made three nodes;
// iorca-workload, outside any container, by its program name on two. A
// failing device is its node's own, and a culprit seen twice on one node
// does not recur.
func TestSummarizeRecurring(t *testing.T) {
	a := node(t, "overlay-slow-disk", "node-a", nil)
	b := node(t, "overlay-sync-logger", "node-b", nil)
	// Hand-made: node-a and node-b's logger given a pod owner and an
	// image, as the runtime's metadata would say.
	for _, n := range []*content.FleetNode{a, b} {
		n.Verdict.Culprit.Namespace, n.Verdict.Culprit.Workload, n.Verdict.Culprit.Image = "shop", "web", "nginx:1.27"
	}
	nodes := []*content.FleetNode{
		a, b,
		node(t, "overlay-sync-logger-tmpfs", "node-c", nil),
		node(t, "failing-disk", "node-d", nil),
		node(t, "failing-disk", "node-e", nil),
		node(t, "fsync-storm", "node-f", nil),
		node(t, "throttled-cgroup", "node-g", nil),
		node(t, "dirty-throttled", "node-h", nil),
		node(t, "dirty-throttled", "node-h", nil), // node-h captured twice
		node(t, "idle", "node-i", nil),
	}
	s := Summarize(nodes, nil, "")
	want := []content.FleetRecurring{
		{Kind: "container", Name: "web-7", Nodes: []string{"node-a", "node-b", "node-c"}},
		{Kind: "workload", Name: "shop/web", Nodes: []string{"node-a", "node-b"}},
		{Kind: "image", Name: "nginx:1.27", Nodes: []string{"node-a", "node-b"}},
		{Kind: "program", Name: "iorca-workload", Nodes: []string{"node-f", "node-g"}},
	}
	if !reflect.DeepEqual(s.Recurring, want) {
		t.Errorf("recurring\n%+v\nwant\n%+v", s.Recurring, want)
	}
	if s.Distinct != 9 || s.Problems != 9 || len(s.Nodes) != 10 {
		t.Errorf("%d distinct, %d with a problem, %d captures; want 9, 9, 10", s.Distinct, s.Problems, len(s.Nodes))
	}
	if last := s.Nodes[len(s.Nodes)-1]; last.Key() != "node-i" {
		t.Errorf("last node %s, want node-i, the one without a problem", last.Key())
	}
}

// --by groups the nodes by a label's value, the worst share of nodes with
// a problem first, the nodes without the label as one group (value "").
func TestSummarizeByLabel(t *testing.T) {
	a1 := map[string]string{"zone": "eu-1a", "pool": "db"}
	b1 := map[string]string{"zone": "eu-1b"}
	nodes := []*content.FleetNode{
		node(t, "failing-disk", "node-a", a1),
		node(t, "fsync-storm", "node-b", a1),
		node(t, "idle", "node-c", b1),
		node(t, "bulk-writer", "node-d", b1),
		node(t, "overlay-sync-logger", "node-e", b1),
		node(t, "throttled-cgroup", "node-f", map[string]string{"pool": "db"}),
		node(t, "idle", "node-g", nil),
	}
	s := Summarize(slices.Clone(nodes), nil, "zone")
	if s.By == nil || s.By.Label != "zone" {
		t.Fatalf("by %+v, want by zone", s.By)
	}
	var values []string
	for _, g := range s.By.Groups {
		values = append(values, g.Value)
	}
	if want := []string{"eu-1a", "", "eu-1b"}; !slices.Equal(values, want) {
		t.Fatalf("groups %q, want %q (2 of 2, 1 of 2, 1 of 3 with a problem)", values, want)
	}
	// The figures of a group are its nodes' worst devices'.
	for i, members := range [][]*content.FleetNode{nodes[0:2], {nodes[5], nodes[6]}, nodes[2:5]} {
		var mean, top float64
		for _, n := range members {
			mean += n.WorstDevice.AwaitMS / float64(len(members))
			top = max(top, n.WorstDevice.AwaitMS)
		}
		if g := s.By.Groups[i]; g.Nodes != len(members) || g.MaxAwaitMS != top || g.MeanAwaitMS-mean > 1e-9 || mean-g.MeanAwaitMS > 1e-9 {
			t.Errorf("group %q: %+v, want %d nodes, await mean %g, max %g", g.Value, g, len(members), mean, top)
		}
	}
	g := s.By.Groups[0]
	// Two primaries, once each: the first by name.
	// Critical: the failing disk only; fsync-storm's and
	// overlay-sync-logger's stalls are self-inflicted consequences, no
	// more severe than their cause (a warning).
	if g.Problems != 2 || g.Critical != 1 || g.TopPrimary != "kernel-io-errors" || g.TopPrimaryNodes != 1 {
		t.Errorf("eu-1a %+v, want 2 with a problem, 1 critical, kernel-io-errors first", g)
	}
	if g := s.By.Groups[2]; g.Problems != 1 || g.Critical != 0 || g.TopPrimary != "sync-writes" || g.TopPrimaryNodes != 1 {
		t.Errorf("eu-1b %+v, want 1 with a problem (sync-writes), none critical", g)
	}
	if s := Summarize(nodes, nil, "rack"); s.By == nil || len(s.By.Groups) != 1 || s.By.Groups[0].Value != "" || s.By.Groups[0].Nodes != len(nodes) {
		t.Errorf("by a label no node has: %+v, want one group of every node", s.By)
	}
}

// Mitigations are merged across nodes by action: the one that answers
// the verdict's cause on the most nodes first, then the one the most
// nodes' findings call for. Only findings of warning or worse count; the
// earliest horizon wins; a node captured twice counts once.
func TestSummarizeMitigations(t *testing.T) {
	c := node(t, "overlay-slow-disk", "node-c", nil)
	// Hand-made: on node-c, "Write in page-sized or larger pieces" made
	// immediate (short term on every sample).
	for i, f := range c.Findings {
		for j, m := range f.Mitigations {
			if m.Action == "Write in page-sized or larger pieces" {
				c.Findings[i].Mitigations[j].Horizon = content.Immediate
			}
		}
	}
	nodes := []*content.FleetNode{
		node(t, "fsync-storm", "node-a", nil),
		node(t, "failing-disk", "node-b", nil),
		c,
		node(t, "overlay-slow-disk", "node-c", nil), // node-c captured twice
		node(t, "overlay-sync-logger", "node-d", nil),
		node(t, "bulk-writer", "node-e", nil),
	}
	s := Summarize(nodes, nil, "")
	// sync-writes is the cause on a, c and d; on c and d the synced file
	// is an access log, whose logger is reloaded buffered at once.
	want := []content.FleetMitigation{
		{Action: "Reload the logger of /var/log/nginx/access.log with buffered writes", Horizon: content.Immediate, Findings: []string{"sync-writes"},
			Fixes: []string{"node-c", "node-d"}, Nodes: []string{"node-c", "node-d"}},
	}
	if len(s.Mitigation) < len(want) || !reflect.DeepEqual(s.Mitigation[:len(want)], want) {
		t.Errorf("first mitigations\n%+v\nwant\n%+v", s.Mitigation[:min(len(want), len(s.Mitigation))], want)
	}
	by := map[string]content.FleetMitigation{}
	for _, m := range s.Mitigation {
		by[m.Action] = m
	}
	if m := by["Write in page-sized or larger pieces"]; m.Horizon != content.Immediate || !slices.Equal(m.Nodes, []string{"node-a", "node-c", "node-d"}) || len(m.Fixes) != 0 {
		t.Errorf("write-amplification's mitigation %+v, want immediate (node-c's), on a, c and d, the cause on none", m)
	}
	// bulk-writer's and failing-disk's dominant-io-process are info only.
	if m, ok := by["Write it without flooding the page cache"]; ok {
		t.Errorf("an info finding's mitigation is merged: %+v", m)
	}
	for i := 1; i < len(s.Mitigation); i++ {
		a, b := s.Mitigation[i-1], s.Mitigation[i]
		if len(a.Fixes) < len(b.Fixes) || len(a.Fixes) == len(b.Fixes) && len(a.Nodes) < len(b.Nodes) {
			t.Errorf("%q (fixes %d, on %d) before %q (fixes %d, on %d)", a.Action, len(a.Fixes), len(a.Nodes), b.Action, len(b.Fixes), len(b.Nodes))
		}
	}
}

// Unreadable inputs are listed by source, and an empty list is one (the
// fleet's JSON says [], not null).
func TestSummarizeUnreadable(t *testing.T) {
	bad := []content.FleetUnreadable{{Source: "z.json", Error: `schema "x", want "iorca.report/v1"`}, {Source: "a.tar.zst", Error: "truncated"}}
	s := Summarize([]*content.FleetNode{node(t, "idle", "node-a", nil)}, bad, "")
	if len(s.Unreadable) != 2 || s.Unreadable[0].Source != "a.tar.zst" || s.Unreadable[1].Source != "z.json" || len(s.Nodes) != 1 {
		t.Errorf("unreadable %+v, want a.tar.zst then z.json", s.Unreadable)
	}
	s = Summarize(nil, nil, "")
	if s.Unreadable == nil || s.Recurring == nil || s.Findings == nil || s.Mitigation == nil || s.Distinct != 0 {
		t.Errorf("an empty fleet: %+v, want empty lists", s)
	}
}
