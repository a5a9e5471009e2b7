package verdict

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// related returns the serious findings about the culprit other than the
// primary one, the first of each rule, in catalogue order.
func (d *Diagnosis) related(primary *content.Finding, serious []*content.Finding) []*content.Finding {
	if d.CulpritProc == nil {
		return nil
	}
	pids := map[int]bool{d.CulpritProc.PID: true}
	if primary.Role != content.Saturation {
		for _, p := range primary.Subjects.PIDs {
			pids[p] = true
		}
	}
	var out []*content.Finding
	for _, f := range serious {
		if f == primary || f.Role == content.Victims || f.Role == content.Saturation {
			continue // the victims are not the culprit; the device has its own clause
		}
		if slices.ContainsFunc(f.Subjects.PIDs, func(p int) bool { return pids[p] }) &&
			!slices.ContainsFunc(out, func(g *content.Finding) bool { return g.ID == f.ID }) {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return rules.Order(out[i].ID) < rules.Order(out[j].ID) })
	return out
}

// verdictText is the verdict in one paragraph: the primary finding, how
// the culprit writes, the device, who waited and who was loud elsewhere,
// and the other findings by what they are to the cause.
func (d *Diagnosis) verdictText(primary *content.Finding, serious []*content.Finding) string {
	var b strings.Builder
	rel := d.related(primary, serious)
	b.WriteString(primary.Summary)
	shows := d.howItWrites(&b, rel)
	devFinding := firstWithRole(serious, content.Saturation)
	d.deviceClause(&b, primary, devFinding, shows)
	d.waitersClause(&b, devFinding)
	d.restClause(&b, primary, devFinding, serious, rel)
	return b.String()
}

// howItWrites writes what the findings about the culprit add to the
// verdict, in catalogue order, and returns what they show; without a
// finding about syncs or small pieces, the culprit's large writes.
func (d *Diagnosis) howItWrites(b *strings.Builder, rel []*content.Finding) rules.Trait {
	var shows rules.Trait
	for _, f := range rel {
		r := rules.Of(f)
		shows |= r.Shows
		if r.Clause != nil {
			b.WriteString(r.Clause(f))
		}
	}
	if !shows.Has(rules.Syncs) && !shows.Has(rules.SmallPieces) {
		b.WriteString(d.largeWritesClause())
	}
	return shows
}

// firstWithRole is the first finding of a role, nil when none has it.
func firstWithRole(fs []*content.Finding, r content.Role) *content.Finding {
	for _, f := range fs {
		if f.Role == r {
			return f
		}
	}
	return nil
}

// deviceClause says how the device fared: saturated, and how much of it
// the culprit holds; else how busy the culprit's device was (nothing for
// an IO limit, whose summary says it).
func (d *Diagnosis) deviceClause(b *strings.Builder, primary, devFinding *content.Finding, shows rules.Trait) {
	c := d.Window
	switch {
	case devFinding != nil && primary.Role != content.Saturation:
		dev := devFinding.Subjects.Device
		fmt.Fprintf(b, " %s is saturated", dev)
		// Its figures as the finding gives them: a figure it lacks is not
		// printed as 0.
		util, okUtil := devFinding.Figure(rules.FigUtilPct)
		await, okAwait := devFinding.Figure(rules.FigAwaitMS)
		if okUtil && okAwait {
			fmt.Fprintf(b, " (%%util %.0f, await %.1f ms)", util, await)
		}
		if cp := d.CulpritProc; cp != nil {
			if dt := c.DeviceTimes[dev]; dt != nil {
				if s := c.ShareOf(cp.PID, dev); s != nil && dt.Fraction(s) > 0 {
					fmt.Fprintf(b, ", and %s holds %.0f %% of its time%s", c.ShareName(dev, s), dt.Fraction(s)*100, window.ShareHow(dt, s))
				}
			}
		}
		b.WriteString(".")
	case devFinding == nil && primary.Limit != content.IOLimit:
		name, x, ok := d.culpritDevice()
		if !ok {
			return
		}
		// Thresholds decide severities and alerts; the words describe the
		// device as it was.
		fmt.Fprintf(b, " The device %s was busy %.0f %% of the time, its requests took %.1f ms on average with %.1f queued", name, x.Util, x.Await, x.AquSz)
		switch {
		case c.IsSaturated(name, x):
			// Saturated, with no serious finding about it: only its
			// own load waited (device-saturated is then info).
			b.WriteString(", saturated by its own load: no other task waited for it")
		case x.Util >= 0.9*c.Thresholds.UtilPct:
			b.WriteString(", close to saturation")
		case x.Await >= 0.9*c.Thresholds.AwaitMS:
			b.WriteString(slowNotSaturated(c, name))
		}
		if shows.Has(rules.Syncs) || shows.Has(rules.SmallPieces|rules.Amplified) {
			b.WriteString(": the cost is in operations and latency for everything that shares it, not in bandwidth")
		}
		b.WriteString(".")
	}
}

// waitersClause names who waited for the device (other than the
// culprit), and the loud neighbours that are not the cause.
func (d *Diagnosis) waitersClause(b *strings.Builder, devFinding *content.Finding) {
	for i := range d.Findings {
		f := &d.Findings[i]
		switch {
		case f.Role == content.Victims && (d.CulpritProc == nil || !slices.Contains(f.Subjects.PIDs, d.CulpritProc.PID)):
			var who []string
			for _, e := range f.Evidence {
				who = append(who, e.What)
			}
			fmt.Fprintf(b, " Waiting for %s: %s.", f.Subjects.Device, strings.Join(who, "; "))
		case f.Role == content.Neighbour && devFinding != nil && !d.isVictim(f.Subjects.PIDs):
			if clause := rules.Of(f).Clause; clause != nil {
				b.WriteString(clause(f))
			}
		}
	}
}

// isVictim reports whether a victims finding names one of the processes.
func (d *Diagnosis) isVictim(pids []int) bool {
	for _, f := range d.Findings {
		if f.Role == content.Victims && slices.ContainsFunc(f.Subjects.PIDs, func(p int) bool { return slices.Contains(pids, p) }) {
			return true
		}
	}
	return false
}

// restClause lists the serious findings the verdict has not spoken of:
// the effects of the cause, then the others.
func (d *Diagnosis) restClause(b *strings.Builder, primary, devFinding *content.Finding, serious, rel []*content.Finding) {
	seen := map[*content.Finding]bool{primary: true, devFinding: true}
	for _, f := range serious {
		if f.Role == content.Victims {
			seen[f] = true
		}
	}
	for _, f := range rel {
		seen[f] = true
	}
	var effects, others []string
	for _, f := range serious {
		if seen[f] {
			continue
		}
		seen[f] = true
		if !primary.Role.Effect() && f.Role.Effect() && d.follows(*f, primary) {
			effects = append(effects, f.ID)
			continue
		}
		others = append(others, f.ID)
	}
	sort.Strings(effects)
	sort.Strings(others)
	if len(effects) > 0 {
		fmt.Fprintf(b, " It leads to: %s.", strings.Join(effects, ", "))
	}
	if len(others) > 0 {
		fmt.Fprintf(b, " Also found: %s.", strings.Join(others, ", "))
	}
}

// largeWritesClause describes a culprit that writes in large, buffered
// pieces (a backup, a copy): the page cache absorbs them.
func (d *Diagnosis) largeWritesClause() string {
	if d.CulpritProc == nil {
		return ""
	}
	tv := d.Window.Target(d.CulpritProc.PID)
	if tv == nil || tv.Summary == nil {
		return ""
	}
	for _, f := range tv.Summary.Files {
		if f.Kind != "file" || f.Writes == 0 {
			continue
		}
		if f.Syncs > 0 || f.AvgWrite() < d.Window.Thresholds.SmallWriteMaxAvg {
			return ""
		}
		for _, fd := range tv.Target.FDs {
			if fd.Path != f.Path || fd.Info == nil {
				continue
			}
			if fd.Info.Flags.Sync() || fd.Info.Flags.DSync() {
				return ""
			}
			if fd.Info.Flags.Direct(d.Window.Model.Manifest.Host.Arch) {
				return fmt.Sprintf(" It writes %s with O_DIRECT in %s pieces: they bypass the page cache and go to the device at once.", f.Path, prose.Bytes(f.AvgWrite()))
			}
		}
		return fmt.Sprintf(" It writes %s in large buffered pieces (%s on average, no O_SYNC, no fsync): the page cache absorbs them and writeback sends them to the device later%s.", f.Path, prose.Bytes(f.AvgWrite()), d.dirtyGrowth())
	}
	return ""
}

// dirtyGrowth says how the dirty page cache moved over the window.
func (d *Diagnosis) dirtyGrowth() string {
	c := d.Window
	a, b := c.Model.Ticks[c.From].Vmstat, c.Model.Ticks[c.To].Vmstat
	if a == nil || b == nil || b["nr_dirty_threshold"] == 0 {
		return ""
	}
	page := c.PageSize()
	return fmt.Sprintf(" (dirty page cache went from %s to %s, %.0f %% of the dirty limit)",
		prose.Bytes(float64(a["nr_dirty"])*page), prose.Bytes(float64(b["nr_dirty"])*page), prose.Pct(float64(b["nr_dirty"]+b["nr_writeback"]), float64(b["nr_dirty_threshold"])))
}

// burstDepth is the requests in flight, on average over a device's busy
// time, from which its slow requests queued behind each other.
const burstDepth = 2

// slowNotSaturated says why a device's requests were slow although it
// was not saturated, from the block trace: its busy time came in bursts
// with requests queued in them (each waited for those ahead of it: a
// sync's writeback, a batch), or requests were slow one at a time on a
// mostly idle device (latency, not load).
func slowNotSaturated(c *window.Window, dev string) string {
	b, ok := c.Model.BurstsOn(dev)
	switch {
	case !ok:
		return ", its requests slow although it was mostly idle"
	case b.Depth < burstDepth:
		return ", its requests slow one at a time on a mostly idle device: latency, not load"
	}
	alone := ""
	if b.UnloadedMS > 0 {
		alone = fmt.Sprintf(" (one alone took %.1f ms)", b.UnloadedMS)
	}
	return fmt.Sprintf(": its busy time came in bursts, with %.1f requests in flight on average while it was busy, so each request waited for those ahead of it%s",
		b.Depth, alone)
}
