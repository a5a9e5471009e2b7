// Package comparison sets two diagnoses side by side — the same node before
// and after a fix, or two nodes — and says what changed: findings
// resolved, new and unchanged, each device's and each application's key
// rates and latencies before and after, and the two verdicts.
package comparison

import (
	"fmt"
	"sort"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

func side(path string, d *verdict.Diagnosis) content.ComparisonSide {
	m := d.Window.Model
	start, _ := m.Span()
	return content.ComparisonSide{Bundle: path, Host: m.Manifest.Host.Hostname, Node: m.Manifest.Node, Kernel: m.Manifest.Host.KernelRelease,
		Start: start.UTC().Format("2006-01-02 15:04:05 UTC"), Seconds: d.Window.Seconds, Verdict: d.Verdict}
}

// findingKey tells findings apart: id and subject.
func findingKey(f content.Finding) (string, string) {
	sub := f.Subjects.Device
	if sub == "" {
		sub = f.Subjects.Path
	}
	return f.ID, sub
}

// Compare sets two diagnoses side by side.
func Compare(beforePath string, before *verdict.Diagnosis, afterPath string, after *verdict.Diagnosis) *content.Comparison {
	d := &content.Comparison{Schema: content.ComparisonSchema, Before: side(beforePath, before), After: side(afterPath, after), Warnings: []string{},
		Resolved: []content.FindingChange{}, New: []content.FindingChange{}, Unchanged: []content.FindingChange{}}
	if a, b := d.Before.Node+d.Before.Host, d.After.Node+d.After.Host; a != b {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the bundles are of two nodes (%s and %s): the differences include the nodes'", d.Before.NodeName(), d.After.NodeName()))
	}
	if d.Before.Kernel != d.After.Kernel {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the kernels differ (%s and %s): counters and their meaning may too", d.Before.Kernel, d.After.Kernel))
	}
	compareFindings(d, before.Findings, after.Findings)
	d.Devices = deviceRows(before.Window, after.Window)
	d.Apps = appRows(before.Window, after.Window)
	d.Timelines = timelines(before.Window, after.Window)
	return d
}

// compareFindings sorts the findings of warning or worse into resolved,
// new and unchanged.
func compareFindings(d *content.Comparison, before, after []content.Finding) {
	type key struct{ id, sub string }
	serious := func(fs []content.Finding) (map[key]content.Finding, []key) {
		m := map[key]content.Finding{}
		var order []key
		for _, f := range fs {
			if f.Severity < content.Warning {
				continue
			}
			id, sub := findingKey(f)
			k := key{id, sub}
			if old, ok := m[k]; !ok || f.Severity > old.Severity {
				if !ok {
					order = append(order, k)
				}
				m[k] = f
			}
		}
		return m, order
	}
	b, bo := serious(before)
	a, ao := serious(after)
	for _, k := range bo {
		f := b[k]
		if g, ok := a[k]; ok {
			d.Unchanged = append(d.Unchanged, content.FindingChange{ID: k.id, Subject: k.sub, Title: g.Title, SeverityBefore: f.Severity.String(), SeverityAfter: g.Severity.String()})
		} else {
			d.Resolved = append(d.Resolved, content.FindingChange{ID: k.id, Subject: k.sub, Title: f.Title, SeverityBefore: f.Severity.String()})
		}
	}
	for _, k := range ao {
		if _, ok := b[k]; !ok {
			g := a[k]
			d.New = append(d.New, content.FindingChange{ID: k.id, Subject: k.sub, Title: g.Title, SeverityAfter: g.Severity.String()})
		}
	}
}

// deviceRows are iostat -x over each window, for every device busy on
// either side, the busiest first.
func deviceRows(b, a *window.Window) []content.ComparedRow {
	names := map[string]float64{}
	for n, x := range b.Devices {
		names[n] = max(names[n], x.Util+x.TPS)
	}
	for n, x := range a.Devices {
		names[n] = max(names[n], x.Util+x.TPS)
	}
	rows := []content.ComparedRow{}
	order := busiestFirst(names)
	for _, n := range order {
		x, y := b.Devices[n], a.Devices[n]
		rows = append(rows, content.ComparedRow{Name: n, Figures: []content.ComparedFigure{
			fig("w/s", "/s", x.WPS, y.WPS), fig("wkB/s", "kB/s", x.WkBPS, y.WkBPS), fig("f/s", "/s", x.FPS, y.FPS),
			fig("r/s", "/s", x.RPS, y.RPS), fig("rkB/s", "kB/s", x.RkBPS, y.RkBPS),
			fig("await", "ms", x.Await, y.Await), fig("aqu-sz", "", x.AquSz, y.AquSz), fig("%util", "%", x.Util, y.Util)}})
	}
	return rows
}

type appRates struct{ write, read, syscw float64 }

func rates(c *window.Window) map[string]*appRates {
	out := map[string]*appRates{}
	if c.Seconds <= 0 {
		return out
	}
	for _, p := range c.Procs {
		if p.Proc.Kernel {
			continue
		}
		n := c.AppLabel(p.Proc, false)
		r := out[n]
		if r == nil {
			r = &appRates{}
			out[n] = r
		}
		r.write += float64(p.Delta.IO.WriteBytes) / c.Seconds / 1024
		r.read += float64(p.Delta.IO.ReadBytes) / c.Seconds / 1024
		r.syscw += float64(p.Delta.IO.SyscW) / c.Seconds
	}
	return out
}

// appRows are the applications' IO rates over each window, the busiest
// (on either side) first, at most ten.
func appRows(b, a *window.Window) []content.ComparedRow {
	rb, ra := rates(b), rates(a)
	load := map[string]float64{}
	for n, r := range rb {
		load[n] = max(load[n], r.write+r.read+r.syscw)
	}
	for n, r := range ra {
		load[n] = max(load[n], r.write+r.read+r.syscw)
	}
	order := busiestFirst(load)
	if len(order) > 10 {
		order = order[:10]
	}
	rows := []content.ComparedRow{}
	for _, n := range order {
		x, y := rb[n], ra[n]
		if x == nil {
			x = &appRates{}
		}
		if y == nil {
			y = &appRates{}
		}
		rows = append(rows, content.ComparedRow{Name: n, Figures: []content.ComparedFigure{
			fig("write_bytes", "kB/s", x.write, y.write), fig("read_bytes", "kB/s", x.read, y.read), fig("write calls", "/s", x.syscw, y.syscw)}})
	}
	return rows
}

// timelines put the two captures on the same axes: each one's busiest
// device's %util, and its writes per second (the same device when both
// captures have it busiest, as before and after a fix on one node).
func timelines(b, a *window.Window) []content.Chart {
	devB, _, ok := b.BusiestDevice()
	if !ok {
		return nil
	}
	devA := devB
	if _, ok := a.Devices[devB]; !ok {
		devA, _, _ = a.BusiestDevice()
	}
	series := func(c *window.Window, dev string, pick func(model.Iostat) float64) ([]float64, []float64) {
		m := c.Model
		var xs, vs []float64
		for k := 1; k < len(m.Ticks); k++ {
			xs = append(xs, m.Seconds(0, k))
			vs = append(vs, pick(m.DeviceIostat(k-1, k)[dev]))
		}
		return xs, vs
	}
	devs := devB
	if devA != devB {
		devs = devB + " and " + devA
	}
	chart := func(id, what, ylabel string, ymax float64, pick func(model.Iostat) float64) content.Chart {
		xb, vb := series(b, devB, pick)
		xa, va := series(a, devA, pick)
		// One x axis: the longer capture's; the shorter series ends early.
		x := xb
		if len(xa) > len(xb) {
			x = xa
		}
		return content.Chart{ID: id, Kind: content.ChartLines, Title: fmt.Sprintf("%s %s, before and after", what, devs), X: x,
			XLabel: "seconds since each capture began", YLabel: ylabel, YMax: ymax,
			Series: []content.Series{{Name: "before: " + devB, Values: vb}, {Name: "after: " + devA, Values: va}},
			Alt:    fmt.Sprintf("%s per interval of %s before and %s after, each from the start of its capture.", ylabel, devB, devA)}
	}
	return []content.Chart{
		chart("diff-util", "How busy was", "%util", 100, func(x model.Iostat) float64 { return x.Util }),
		chart("diff-writes", "How many writes went to", "writes/s", 0, func(x model.Iostat) float64 { return x.WPS }),
	}
}

// fig is one figure before and after.
func fig(name, unit string, before, after float64) content.ComparedFigure {
	return content.ComparedFigure{Name: name, Unit: unit, Before: before, After: after}
}

// busiestFirst lists the names with a load above zero, the largest first
// (by name among equals).
func busiestFirst(load map[string]float64) []string {
	var order []string
	for n, v := range load {
		if v > 0 {
			order = append(order, n)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if load[order[i]] != load[order[j]] {
			return load[order[i]] > load[order[j]]
		}
		return order[i] < order[j]
	})
	return order
}
