package fleet

import (
	"slices"
	"strings"
	"time"

	"github.com/iorca/iorca/report/content"
)

// NodeOf is the fleet's node of one report's content, made from a bundle
// here or read from a JSON report (report.ParseJSON); source names the
// file it came from. A node outlives its report, which goes with its
// bundle's model: its strings are copies, so that no node keeps a
// bundle's buffers alive. A nil slice of the report's stays nil (null in
// the fleet's JSON, as in the report's).
func NodeOf(source string, rc *content.Report) *content.FleetNode {
	v := rc.Verdict
	n := &content.FleetNode{
		Source: strings.Clone(source), Schema: content.ReportSchema,
		Host: strings.Clone(rc.Host), Name: strings.Clone(rc.Node), Bundle: strings.Clone(rc.Bundle),
		Window: content.FleetWindow{Start: rc.Window.Start, Seconds: rc.Window.Seconds, BootID: strings.Clone(rc.Window.BootID)},
		Verdict: content.FleetVerdict{Problem: v.Problem, Summary: strings.Clone(v.Summary), Confidence: v.Confidence,
			Primary: strings.Clone(v.Primary), Culprit: culpritOf(v.Culprit)},
		Partial: rc.Partial,
	}
	if len(rc.Monitoring.Alerts) > 0 {
		n.Alerts = slices.Clone(rc.Monitoring.Alerts)
	}
	// The report's JSON leaves out labels when there are none.
	if len(rc.Labels) > 0 {
		n.Labels = make(map[string]string, len(rc.Labels))
		for k, val := range rc.Labels {
			n.Labels[strings.Clone(k)] = strings.Clone(val)
		}
	}
	if d := rc.WorstDevice; d != nil {
		n.WorstDevice = &content.FleetDevice{Name: strings.Clone(d.Name), Util: d.Util, AwaitMS: d.AwaitMS}
	}
	if rc.Findings != nil {
		n.Findings = make([]content.FleetFinding, len(rc.Findings))
	}
	for i, f := range rc.Findings {
		ff := content.FleetFinding{ID: strings.Clone(f.ID), Title: strings.Clone(f.Title), Severity: f.Severity}
		if f.Mitigations != nil {
			ff.Mitigations = make([]content.FleetAction, len(f.Mitigations))
		}
		for j, m := range f.Mitigations {
			ff.Mitigations[j] = content.FleetAction{Horizon: content.Horizon(strings.Clone(string(m.Horizon))), Action: strings.Clone(m.Action)}
		}
		n.Findings[i] = ff
	}
	return n
}

// culpritOf is a report's culprit by the names the fleet groups nodes
// by; nil for none.
func culpritOf(c *content.Culprit) *content.FleetCulprit {
	if c == nil {
		return nil
	}
	return &content.FleetCulprit{
		Kind: strings.Clone(c.Kind), Device: strings.Clone(c.Device), Limit: strings.Clone(c.Limit), LimitKind: strings.Clone(c.LimitKind), PID: c.PID,
		Comm: strings.Clone(c.Comm), Container: strings.Clone(c.Container), Pod: strings.Clone(c.Pod),
		Namespace: strings.Clone(c.Namespace), Workload: strings.Clone(c.Workload), Image: strings.Clone(c.Image),
	}
}

// Dedupe keeps each capture once: inputs with the same host, start and
// boot id (the same bundle given twice, or a bundle and its JSON report
// side by side) are one capture, kept as the first of them in the
// inputs' order; the others are returned as duplicates.
func Dedupe(nodes []*content.FleetNode) ([]*content.FleetNode, []content.FleetDuplicate) {
	first := map[string]*content.FleetNode{}
	var kept []*content.FleetNode
	dups := []content.FleetDuplicate{} // [] in JSON, as the other lists
	for _, n := range nodes {
		key := n.Host + "\x00" + n.Window.Start.UTC().Format(time.RFC3339Nano) + "\x00" + n.Window.BootID
		if f := first[key]; f != nil {
			dups = append(dups, content.FleetDuplicate{Source: n.Source, SameAs: f.Source})
			continue
		}
		first[key] = n
		kept = append(kept, n)
	}
	return kept, dups
}
