package explain

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/table"
	"github.com/iorca/iorca/report/content"
)

// appendix holds the tables and the limits of what was seen.
func (e *explainer) appendix() content.Appendix {
	a := content.Appendix{
		Limits:     e.limits(),
		Thresholds: thresholds(e.c.Thresholds),
	}
	if len(e.m.Ticks) >= 2 {
		a.Iotop, a.Iostat = e.iotop(), e.iostat()
	}
	a.Dirty, a.DirtySettings = e.dirty()
	a.Mounts = e.mountsInvolved()
	return a
}

// iotop is iotop -aoP over the capture: the busiest processes.
func (e *explainer) iotop() *table.Table {
	t := &table.Table{Columns: []table.Column{{Name: "PID", Prec: -1}, {Name: "Command", Left: true}, {Name: "Container", Left: true},
		{Name: "Disk read", Left: true}, {Name: "Disk write", Left: true}, {Name: "wchar", Left: true}, {Name: "Write calls", Prec: -1}, {Name: "IO %", Prec: 1}}}
	for _, p := range e.activeProcesses(10) {
		cont := ""
		if p.Proc.Container != nil {
			cont = p.Proc.Container.Name
		}
		// Without delay figures IO % would read 0 however long it
		// waited: n/a, and the limits say why.
		ioPct := table.Num(p.IOPercent(e.m.Manifest.Host.UserHZ))
		if e.m.DelayAcctUnknown(&p) != "" {
			ioPct = table.Text("n/a")
		}
		t.Add(table.Int(int64(p.Proc.PID)), table.Text(p.Proc.Comm), table.Text(cont), table.Text(prose.Bytes(float64(p.Delta.IO.ReadBytes))),
			table.Text(prose.Bytes(float64(p.Delta.IO.WriteBytes))), table.Text(prose.Bytes(float64(p.Delta.IO.WChar))), table.Int(p.Delta.IO.SyscW), ioPct)
	}
	return t
}

// delayAcctLimit says which processes of the iotop table have no delay
// figures because they started before the collector turned
// kernel.task_delayacct on, nil when none.
func (e *explainer) delayAcctLimit() content.Line {
	var names []string
	for _, p := range e.activeProcesses(10) {
		if why := e.m.DelayAcctUnknown(&p); why != "" && why != "kernel.task_delayacct was 0" {
			names = append(names, fmt.Sprintf("PID %d (%s)", p.Proc.PID, p.Proc.Comm))
		}
	}
	if len(names) == 0 {
		return nil
	}
	they := "they started"
	if len(names) == 1 {
		they = "it started"
	}
	return linef("IO %% is n/a for %s: %s before the collector turned kernel.task_delayacct on at the capture's start, and the kernel keeps delay figures only for tasks started while it is on (no thread of theirs counted any), so the column would read 0 however long they waited in D state; their waits are judged from task states and PSI.", text(prose.JoinAnd(names)), they)
}

// iostat is iostat -x over the capture for every whole disk that did IO.
func (e *explainer) iostat() *table.Table {
	t := &table.Table{Columns: []table.Column{{Name: "Device", Left: true}, {Name: "r/s", Prec: 2}, {Name: "rkB/s", Prec: 2}, {Name: "r_await", Prec: 2},
		{Name: "w/s", Prec: 2}, {Name: "wkB/s", Prec: 2}, {Name: "wareq-sz", Prec: 2}, {Name: "w_await", Prec: 2}, {Name: "f/s", Prec: 2}, {Name: "aqu-sz", Prec: 2}, {Name: "%util", Prec: 2}}}
	for _, n := range e.m.WholeDisks() {
		x, ok := e.c.Devices[n]
		if !ok || x.RPS+x.WPS+x.FPS == 0 {
			continue
		}
		t.Add(table.Text(n), table.Num(x.RPS), table.Num(x.RkBPS), table.Num(x.RAwait), table.Num(x.WPS), table.Num(x.WkBPS), table.Num(x.WareqSz), table.Num(x.WAwait), table.Num(x.FPS), table.Num(x.AquSz), table.Num(x.Util))
	}
	return t
}

// dirty shows the dirty page cache against the kernel's limits, tick by
// tick: where buffered writes wait before writeback.
func (e *explainer) dirty() (*table.Table, content.Line) {
	m := e.m
	if len(m.Ticks) == 0 || m.Ticks[0].Vmstat == nil {
		return nil, nil
	}
	page := float64(m.Manifest.Host.PageSize) / 1024
	t := &table.Table{Columns: []table.Column{{Name: "Tick", Prec: -1}, {Name: "Dirty kB", Prec: -1}, {Name: "Writeback kB", Prec: -1},
		{Name: "Dirty limit kB", Prec: -1}, {Name: "Background kB", Prec: -1}, {Name: "% of limit", Prec: 1}, {Name: "pgpgout kB/s", Prec: 0}}}
	for k, tk := range m.Ticks {
		v := tk.Vmstat
		if v == nil {
			continue
		}
		lim := float64(v["nr_dirty_threshold"]) * page
		used := float64(v["nr_dirty"]+v["nr_writeback"]) * page
		share := 0.0
		if lim > 0 {
			share = used / lim * 100
		}
		out := 0.0
		if k > 0 && m.Ticks[k-1].Vmstat != nil {
			if s := m.Seconds(k-1, k); s > 0 {
				out = float64(v["pgpgout"]-m.Ticks[k-1].Vmstat["pgpgout"]) / s
			}
		}
		t.Add(table.Int(int64(k)), table.Num(float64(v["nr_dirty"])*page), table.Num(float64(v["nr_writeback"])*page), table.Num(lim),
			table.Num(float64(v["nr_dirty_background_threshold"])*page), table.Num(share), table.Num(out))
	}
	s := m.Sysctl
	settings := linef("vm.dirty_ratio %s, vm.dirty_background_ratio %s, vm.dirty_bytes %s, vm.dirty_background_bytes %s, vm.dirty_expire_centisecs %s (%s).",
		orDash(s["vm/dirty_ratio"]), orDash(s["vm/dirty_background_ratio"]), orDash(s["vm/dirty_bytes"]), orDash(s["vm/dirty_background_bytes"]), orDash(s["vm/dirty_expire_centisecs"]), code(bundle.HostMember))
	return t, settings
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mountsInvolved places the files the findings name.
func (e *explainer) mountsInvolved() *table.Table {
	c := e.c
	t := &table.Table{Columns: []table.Column{{Name: "File", Left: true}, {Name: "Mount", Left: true}, {Name: "Type", Left: true}, {Name: "Source", Left: true}, {Name: "Upper dir", Left: true}, {Name: "Device", Left: true}}}
	seen := map[string]bool{}
	for _, f := range e.d.Findings {
		if f.Subjects.Path == "" || len(f.Subjects.PIDs) == 0 || seen[f.Subjects.Path] {
			continue
		}
		tv := c.Target(f.Subjects.PIDs[0])
		if tv == nil {
			continue
		}
		if pl, ok := c.Place(tv, f.Subjects.Path); ok {
			seen[f.Subjects.Path] = true
			up := ""
			if pl.Overlay != nil {
				up = pl.Overlay.Upper
			}
			t.Add(table.Text(f.Subjects.Path), table.Text(pl.Mount.MountPoint), table.Text(pl.Mount.FSType), table.Text(pl.Mount.Source), table.Text(up), table.Text(pl.DescribeDevice()))
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

// limits says what the collector could not see and how that limits the
// verdict.
func (e *explainer) limits() []content.Line {
	m := e.m
	man := m.Manifest
	var items []content.Line
	if man.Partial {
		items = append(items, linef("The bundle is partial: %s; figures cover the ticks captured.", text(man.PartialReason)))
	}
	if cs := man.Capture; cs != nil && cs.Record != nil && cs.Record.Skipped > 0 {
		items = append(items, linef("The flight recorder ran late and skipped %d interval(s) rather than sample back to back: some intervals of its window are longer than --interval (rates use each tick's own clock).", cs.Record.Skipped))
	}
	if man.Collector.UID != 0 {
		items = append(items, linef("The collector ran as uid %d, not root: other users' /proc/PID/io and traces were denied.", man.Collector.UID))
	}
	if m.Sysctl["kernel/task_delayacct"] == "0" {
		items = append(items, linef("kernel.task_delayacct was 0: per-process IO delay (iotop's IO %%, n/a in the table) is not measured, so stalls are judged from PSI and task states only."))
	}
	if l := e.delayAcctLimit(); l != nil {
		items = append(items, l)
	}
	if len(m.Targets) == 0 {
		items = append(items, linef("No process was traced or described in detail (no targets): file names, fd flags and write sizes are unknown."))
	}
	for _, t := range m.Targets {
		if s := t.Info.Strace; s == nil || s.Member == "" {
			why := "not traced"
			if s != nil {
				why = fmt.Sprintf("trace %s (%s)", s.Status, s.StopReason)
			}
			items = append(items, linef("Target %d (%s): %s, so its write sizes and syncs come from /proc counters and fd flags only.", t.Info.PID, text(t.Info.Comm), text(why)))
		} else if skipped := t.Trace.Skipped(); skipped != "" {
			items = append(items, linef("Target %d (%s), %s: %s; the figures leave them out.", t.Info.PID, text(t.Info.Comm), code(s.Member), skipped))
		}
	}
	if da := man.DelayAcct; da != nil && da.Error != "" {
		items = append(items, linef("kernel.task_delayacct: %s", text(da.Error)))
	}
	if bt := m.BlockTrace; bt != nil && (bt.Malformed > 0 || bt.Unmatched > 0) {
		items = append(items, linef("The block trace %s has %d line(s) in no event form and %d completion(s) with no issue in it (issued before it began, or flush steps the block layer completes within another request); they are left out of the device times.", code(bundle.BlockTraceMember), bt.Malformed, bt.Unmatched))
	}
	if bt := m.BlockTrace; bt != nil && bt.OtherTracersNote() != "" {
		items = append(items, linef("%s", text(bt.OtherTracersNote())))
	}
	if bt := m.BlockTrace; bt != nil && bt.LostNote() != "" {
		items = append(items, linef("%s", text(bt.LostNote())))
	}
	if m.BlockTrace == nil && e.c.DeviceTimesEstimated && len(e.c.DeviceTimes) > 0 {
		items = append(items, linef("No block trace: who holds each device's time is estimated from the targets' files, fd flags and sync counts; processes that were not targets are not in it."))
	}
	for _, p := range man.Errors {
		items = append(items, linef("%s %s: %s", code(p.Source), text(string(p.Status)), text(p.What)))
	}
	for _, b := range man.Bounds {
		items = append(items, linef("Bound %s hit: %s", code(b.Name), text(b.What)))
	}
	for _, n := range m.Notes {
		items = append(items, linef("Could not parse %s %s: %s", code(n.Member), code(n.Path), text(n.What)))
	}
	var ours []string
	for _, p := range m.Procs {
		if p.Collector && p.ReapedBy == 0 {
			ours = append(ours, fmt.Sprintf("%d (%s)", p.PID, p.Comm))
		}
	}
	if len(ours) > 0 {
		items = append(items, linef("The collector's own processes are left out of the analysis: PID %s.", text(strings.Join(ours, ", "))))
	}
	if man.Redaction.Enabled {
		items = append(items, linef("Redaction was on: syscall payloads were not captured and %d command-line value(s) were masked.", man.Redaction.MaskedArgs))
	}
	return items
}
