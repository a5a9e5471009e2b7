package explain

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/alerts"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// Code and Text mark the arguments of content.Linef.
type (
	code = content.AsCode
	text = content.AsText
)

var linef = content.Linef

// Build explains a diagnosis of the bundle at bundlePath.
func Build(bundlePath string, d *verdict.Diagnosis) *content.Report {
	r, _ := BuildWithSeries(bundlePath, d)
	return r
}

// BuildWithSeries is Build, and returns the series the report's alerts
// were proven on (nil when it proposes none).
func BuildWithSeries(bundlePath string, d *verdict.Diagnosis) (*content.Report, *alerts.Set) {
	c := d.Window
	m := c.Model
	man := m.Manifest
	start, end := m.Span()
	r := &content.Report{
		Title:   fmt.Sprintf("IO report: %s, %s to %s UTC", man.Host.Hostname, start.UTC().Format("2006-01-02 15:04:05"), end.UTC().Format("15:04:05")),
		Bundle:  filepath.Base(bundlePath),
		Host:    man.Host.Hostname,
		Node:    man.Node,
		Labels:  man.Labels,
		Window:  content.Window{Start: start.UTC(), End: end.UTC(), Seconds: c.Seconds, Ticks: len(m.Ticks), BootID: m.Manifest.Host.BootID},
		Partial: man.Partial,
		Verdict: d.Verdict,
	}
	r.Intro = linef("Bundle %s, collected by iorca-collect %s on kernel %s (%s, %d CPUs): %d ticks every %s",
		code(r.Bundle), text(man.Collector.Version), text(man.Host.KernelRelease), text(man.Host.Arch), man.Host.CPUs, len(m.Ticks), durationText(man.Options.Interval))
	if man.Partial {
		r.Intro = append(r.Intro, linef(" — **partial bundle**: %s", text(man.PartialReason))...)
	}
	if sv := m.Salvaged; sv != nil {
		r.Partial = true
		missing := sv.Missing
		more := ""
		if len(missing) > 6 {
			missing, more = missing[:6], fmt.Sprintf(" and %d more", len(sv.Missing)-6)
		}
		r.Intro = append(r.Intro, linef(" — **salvaged from a damaged bundle** (%s): the report rests on the members read and verified before the damage; not read: %d member(s), %s%s", text(sv.Damage), len(sv.Missing), text(strings.Join(missing, ", ")), text(more))...)
	}
	r.Intro = append(r.Intro, linef(".")...)
	r.WorstDevice = worstDevice(c)
	r.ConfidenceWhy = d.Verdict.ConfidenceWhy
	for _, f := range d.Findings {
		if f.ID == d.Verdict.Primary && r.ConfidenceWhy == "" {
			r.ConfidenceWhy = f.ConfidenceWhy
		}
	}
	r.Findings = d.Findings
	if r.Findings == nil {
		r.Findings = []content.Finding{}
	}
	e := &explainer{d: d, c: c, m: m}
	r.Chain = e.chain()
	r.Mitigations = mitigations(d.Findings)
	r.Monitoring = e.monitoring()
	r.Appendix = e.appendix()
	r.Headline = e.headline(r)
	if len(r.Monitoring.Alerts) == 0 {
		return r, nil
	}
	return r, e.series
}

type explainer struct {
	d *verdict.Diagnosis
	c *window.Window
	m *model.Model
	// series are the bundle's counters as exporters expose them, on
	// which the alerts were proven; nil without alerts.
	series *alerts.Set
}

func durationText(d interface{ MarshalJSON() ([]byte, error) }) string {
	j, _ := d.MarshalJSON()
	return strings.Trim(string(j), `"`)
}

// activeProcesses are the processes that did any IO, busiest first, at
// most n.
func (e *explainer) activeProcesses(n int) []model.ProcIO {
	var out []model.ProcIO
	for _, p := range e.c.Procs {
		if len(out) == n {
			break
		}
		if p.Active() {
			out = append(out, p)
		}
	}
	return out
}

// mitigations groups every serious finding's mitigations by horizon, most
// severe finding first, one row per action: findings that call for the
// same step (the same Key) share its row, which lists them all, sits at
// the most urgent horizon any of them gives it and keeps the wording of
// the most severe that names its subject; subjects that differ (two devices) are named together.
func mitigations(findings []content.Finding) []content.MitigationGroup {
	type row struct {
		content.MitigationRow
		subjects []string
	}
	var rows []*row
	byKey := map[string]*row{}
	for _, f := range findings {
		if f.Severity < content.Warning || folded(f, findings) {
			continue
		}
		for _, mt := range f.Mitigations {
			r := byKey[mt.MergeKey()]
			if r == nil {
				r = &row{MitigationRow: content.MitigationRow{Mitigation: mt}}
				byKey[mt.MergeKey()] = r
				rows = append(rows, r)
				r.subjects = appendSubject(nil, mt.Subject)
			}
			h := min(mt.Horizon.Rank(), r.Horizon.Rank())
			if betterWording(r.Mitigation, mt) {
				r.Mitigation = mt
				r.subjects = appendSubject(nil, mt.Subject)
			} else if sameWording(r.Mitigation, mt) {
				r.subjects = appendSubject(r.subjects, mt.Subject)
			}
			r.Horizon = content.Horizons[h]
			if !slices.Contains(r.Findings, f.ID) {
				r.Findings = append(r.Findings, f.ID)
			}
		}
	}
	var out []content.MitigationGroup
	for _, h := range content.Horizons {
		g := content.MitigationGroup{Horizon: h}
		for _, r := range rows {
			if r.Horizon != h {
				continue
			}
			if len(r.subjects) > 1 {
				all := prose.JoinAnd(r.subjects)
				r.Action = strings.ReplaceAll(r.Action, r.Subject, all)
				r.How = strings.ReplaceAll(r.How, r.Subject, all)
				r.Effect = strings.ReplaceAll(r.Effect, r.Subject, all)
			}
			g.Rows = append(g.Rows, r.MitigationRow)
		}
		if len(g.Rows) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// folded reports whether f only measures a volume (a dominant process)
// whose processes a serious finding of a mechanism already covers (the
// rotation, scan, syncs or dirty throttling that make that volume): the
// mechanism's remedies are the ones that fit, and the volume's generic
// ones (slow it, write it without the page cache) would contradict
// them.
func folded(f content.Finding, all []content.Finding) bool {
	if f.Role != content.Volume || len(f.Subjects.PIDs) == 0 {
		return false
	}
	for _, pid := range f.Subjects.PIDs {
		covered := false
		for _, g := range all {
			if g.Severity >= content.Warning && (g.Role == content.Cause || g.Role == content.Pressure) && len(g.Mitigations) > 0 && slices.Contains(g.Subjects.PIDs, pid) {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

// betterWording reports whether mt says a row's step better than the
// wording it has: a precise wording over a generic one, and one that
// names what it applies to over one that does not.
func betterWording(r, mt content.Mitigation) bool {
	if r.Generic != mt.Generic {
		return r.Generic
	}
	return r.Subject == "" && mt.Subject != ""
}

// sameWording reports whether mt is r's wording about another subject
// (the same step for another device): the row then names both.
func sameWording(r, mt content.Mitigation) bool {
	return r.Subject != "" && mt.Subject != "" && r.Subject != mt.Subject &&
		strings.ReplaceAll(mt.Action, mt.Subject, r.Subject) == r.Action
}

func appendSubject(subjects []string, s string) []string {
	if s == "" || slices.Contains(subjects, s) {
		return subjects
	}
	return append(subjects, s)
}

// thresholds lists the thresholds that differ from their defaults, by
// name: the defaults are the same in every report (iorca report --help
// lists them).
func thresholds(t window.Thresholds) []content.Threshold {
	vals, defs := t.Values(), window.Defaults()
	defVals := defs.Values()
	names := t.Names()
	sort.Strings(names)
	var out []content.Threshold
	for _, n := range names {
		if vals[n] != defVals[n] {
			out = append(out, content.Threshold{Name: n, Value: vals[n]})
		}
	}
	return out
}

// worstDevice is the device that hurts most over the window, else the
// busiest one, with its %util and await.
func worstDevice(c *window.Window) *content.DeviceFigures {
	name, x, ok := c.BusiestDevice()
	if h := c.Hurting(); len(h) > 0 {
		name, x, ok = h[0], c.Devices[h[0]], true
	}
	if !ok {
		return nil
	}
	return &content.DeviceFigures{Name: name, Util: x.Util, AwaitMS: x.Await}
}
