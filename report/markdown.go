package report

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/table"
)

// Markdown writes the report.
func (r *Report) Markdown(w io.Writer) error {
	var b bytes.Buffer
	m := r.M
	man := m.Manifest
	fmt.Fprintf(&b, "# %s\n\n", esc(r.Title()))
	fmt.Fprintf(&b, "Bundle %s, collected by iorca-collect %s on kernel %s (%s, %d CPUs): %d ticks every %s",
		code(r.Bundle), esc(man.Collector.Version), esc(man.Host.KernelRelease), esc(man.Host.Arch), man.Host.CPUs, len(m.Ticks), durText(man.Options.Interval))
	if man.Partial {
		fmt.Fprintf(&b, " — **partial bundle**: %s", esc(man.PartialReason))
	}
	b.WriteString(".\n\n")

	v := r.D.Verdict
	fmt.Fprintf(&b, "## Verdict\n\n%s\n\n", esc(v.Summary))
	if c := v.Culprit; c != nil {
		fmt.Fprintf(&b, "**Culprit:** PID %d %s", c.PID, code(c.Comm))
		if c.Container != "" {
			fmt.Fprintf(&b, " in container %s", code(c.Container))
		}
		if c.Pod != "" {
			fmt.Fprintf(&b, " (pod %s)", code(c.Pod))
		}
		fmt.Fprintf(&b, " — %s  \n", code(c.Cmdline))
	}
	fmt.Fprintf(&b, "**Confidence:** %s%s\n\n", v.Confidence, confidenceNote(r.D))

	r.evidenceChain(&b)
	r.findings(&b)
	r.mitigations(&b)
	r.monitoring(&b)
	r.appendix(&b)
	_, err := w.Write(b.Bytes())
	return err
}

func durText(d interface{ MarshalJSON() ([]byte, error) }) string {
	j, _ := d.MarshalJSON()
	return strings.Trim(string(j), `"`)
}

func confidenceNote(d *rules.Diagnosis) string {
	for _, f := range d.Findings {
		if f.ID == d.Verdict.Primary && f.ConfidenceWhy != "" {
			return " (" + esc(f.ConfidenceWhy) + ")"
		}
	}
	return ""
}

// evidenceChain walks the steps an SRE would take, for the culprit (or
// the busiest device when there is none), each with the bundle members.
func (r *Report) evidenceChain(b *bytes.Buffer) {
	c := r.D.Context
	if len(r.M.Ticks) < 2 {
		return
	}
	b.WriteString("## Evidence chain\n\n")
	step := 0
	next := func(title, source string) {
		step++
		fmt.Fprintf(b, "%d. **%s** — %s\n", step, title, source)
	}
	// 1. Who does the IO.
	next("Who does the IO", fmt.Sprintf("iotop -aoP over %.0f s, from %s", c.Seconds, code(c.TicksMembers())))
	if len(r.topProcesses(1)) == 0 {
		b.WriteString("   - no process read, wrote or issued a write syscall\n")
	}
	for _, p := range r.topProcesses(5) {
		if p.Proc.Kernel && p.DiskBytes() < 1<<20 {
			continue // a kernel thread's small share is background
		}
		if p.Proc.Kernel {
			fmt.Fprintf(b, "   - PID %d %s (kernel thread, writing on others' behalf: writeback, a loop device, the journal): wrote %s, read %s\n",
				p.Proc.PID, code(p.Proc.Comm), human(float64(p.Delta.IO.WriteBytes)), human(float64(p.Delta.IO.ReadBytes)))
			continue
		}
		share := 0.0
		if c.UserDiskBytes > 0 {
			share = float64(p.DiskBytes()) / float64(c.UserDiskBytes) * 100
		}
		fmt.Fprintf(b, "   - PID %d %s: wrote %s, read %s (%.0f %% of process disk bytes); wchar %s in %d writes\n",
			p.Proc.PID, code(p.Proc.Comm), human(float64(p.Delta.IO.WriteBytes)), human(float64(p.Delta.IO.ReadBytes)), share, human(float64(p.Delta.IO.WChar)), p.Delta.IO.SyscW)
	}
	cp := r.D.CulpritProc
	if cp == nil {
		r.deviceStep(b, next, "")
		b.WriteString("\n")
		return
	}
	pio := c.ByPID[cp.PID]
	// 2. What it is.
	next("What it is", "ps and the process table, "+code(bundle.ProcTableMember))
	fmt.Fprintf(b, "   - PID %d, parent %d, uid %d: %s\n", cp.PID, cp.PPID, cp.UID, code(rules.Cmdline(cp)))
	if cp.Container != nil {
		fmt.Fprintf(b, "   - container %s (%s)\n", code(cp.Container.Name), esc(cp.Container.Source))
	}
	if s := cp.Serves(); s != nil {
		fmt.Fprintf(b, "   - a %s serving container %s (%s)\n", esc(cp.RuntimeKind()), code(s.Name), esc(s.Source))
	}
	cgSeen := map[string]bool{}
	for _, cg := range cp.Cgroups {
		if (cg.HierarchyID == 0 || hasCtl(cg.Controllers, "blkio")) && !cgSeen[cg.Path] {
			cgSeen[cg.Path] = true
			fmt.Fprintf(b, "   - cgroup %s\n", code(cg.Path))
		}
	}
	// 3. Its counters.
	if pio != nil {
		io := pio.Delta.IO
		next("Its /proc counters", fmt.Sprintf("/proc/%d/io, %s", cp.PID, code(c.TicksMembers())))
		fmt.Fprintf(b, "   - over %.1f s: write_bytes +%d, wchar +%d, syscw +%d; read_bytes +%d, rchar +%d, syscr +%d\n", pio.Seconds, io.WriteBytes, io.WChar, io.SyscW, io.ReadBytes, io.RChar, io.SyscR)
		if io.SyscW > 0 {
			fmt.Fprintf(b, "   - %.0f write syscalls per second of %.0f bytes on average\n", float64(io.SyscW)/pio.Seconds, float64(io.WChar)/float64(io.SyscW))
		}
		if io.WChar > 0 && io.WriteBytes > 0 {
			ratio := float64(io.WriteBytes) / float64(io.WChar)
			dir := "block bytes match syscall bytes: each byte is written once"
			switch {
			case ratio > 1.25:
				dir = "block bytes exceed syscall bytes: amplification"
			case ratio < 0.8:
				dir = "syscall bytes exceed block bytes: page-cache absorption, overwrite, or non-disk targets"
			}
			fmt.Fprintf(b, "   - write_bytes/wchar = %.2f (%s)\n", ratio, dir)
		} else if io.WChar > 0 {
			fmt.Fprintf(b, "   - write_bytes is 0: its writes went to pipes, sockets or a filesystem that does not account dirty pages (tmpfs)\n")
		}
	}
	// 4. Its syscalls.
	tv := c.Target(cp.PID)
	hot := ""
	switch {
	case tv == nil:
		next("Its syscalls", "not traced: the collector did not pick it as a target")
	case tv.Summary == nil:
		why := "no trace"
		if s := tv.T.Info.Strace; s != nil {
			why = fmt.Sprintf("no trace (%s, %s)", s.Status, s.StopReason)
		}
		next("Its syscalls", esc(why))
	default:
		s := tv.T.Info.Strace
		next("Its syscalls", fmt.Sprintf("strace -f -tt -T -y for %.1f s (stopped by %s), %s", s.TracedSeconds, esc(s.StopReason), code(s.Member)))
		for i, st := range tv.Summary.Syscalls {
			if i == 4 {
				break
			}
			avg := 0.0
			if st.Complete > 0 {
				avg = float64(st.TotalUS) / float64(st.Complete)
			}
			fmt.Fprintf(b, "   - %s: %d calls (%.0f/s), %d bytes, %.0f µs each on average\n", code(st.Name), st.Calls, float64(st.Calls)/s.TracedSeconds, st.Bytes, avg)
		}
		for i, f := range tv.Summary.Files {
			if i == 3 || f.Writes+f.Syncs == 0 {
				break
			}
			if hot == "" && f.Kind == "file" {
				hot = f.Path
			}
			fmt.Fprintf(b, "   - %s (%s): %d writes of %.0f bytes on average, %d syncs (%d right after a write)\n", code(f.Path), f.Kind, f.Writes, f.AvgWrite(), f.Syncs, f.SyncAfterWrite)
			if ex := f.TypicalWriteLines(); len(ex) > 0 {
				fmt.Fprintf(b, "     %s\n", code(tv.T.TraceLine(ex[0])))
			}
		}
		b.WriteString("   - strace slows the traced process: its rates under trace are lower than the /proc figures above\n")
	}
	if hot == "" && tv != nil {
		for _, fd := range tv.T.FDs {
			if fd.Info != nil && fd.Info.Flags.Writable() && strings.HasPrefix(fd.Path, "/") && !strings.HasPrefix(fd.Path, "/dev/") {
				hot = fd.Path
				break
			}
		}
	}
	if tv != nil && hot != "" {
		for _, fd := range tv.T.FDs {
			if fd.Path == hot && fd.Info != nil {
				fmt.Fprintf(b, "   - fd %d on it is open %s (fdinfo flags 0%o, %s)\n", fd.Num, esc(fd.Info.Flags.Names(r.M.Manifest.Host.Arch)), uint64(fd.Info.Flags), code(bundle.TargetMember(cp.PID)))
			}
		}
	}
	// 5. The filesystem.
	dev := ""
	if tv != nil && hot != "" {
		if pl, ok := c.Place(tv, hot); ok {
			next("The filesystem it lands on", fmt.Sprintf("findmnt -T in the process's mount namespace, %s", code(bundle.TargetMember(cp.PID))))
			fmt.Fprintf(b, "   - %s is on %s, type %s, source %s\n", code(hot), code(pl.Mount.MountPoint), esc(pl.Mount.FSType), code(pl.Mount.Source))
			if pl.Overlay != nil {
				fmt.Fprintf(b, "   - overlayfs: upperdir %s, %d lower layer(s); the file's data goes to %s\n", code(pl.Overlay.Upper), len(pl.Overlay.Lower), code(pl.UpperPath))
			}
			fmt.Fprintf(b, "   - on the host that is %s (%s) on device %s\n", code(pl.HostMount.MountPoint), esc(pl.HostMount.FSType), esc(pl.DescribeDevice()))
			dev = pl.Device
		}
	}
	r.deviceStep(b, next, dev)
	b.WriteString("\n")
}

func hasCtl(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (r *Report) deviceStep(b *bytes.Buffer, next func(string, string), dev string) {
	c := r.D.Context
	names := []string{}
	if dev != "" {
		names = append(names, dev)
		if bl := r.M.Blocks[dev]; bl != nil && bl.BackingFile != "" {
			// A loop device's writes reach the device holding its file.
			for _, n := range r.M.WholeDisks() {
				if n != dev && c.Devices[n].WkBPS > 0 {
					names = append(names, n)
				}
			}
		}
	} else {
		for _, n := range r.M.WholeDisks() {
			if x := c.Devices[n]; x.RPS+x.WPS > 0 {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	next("The device", fmt.Sprintf("iostat -x over the capture, %s (/proc/diskstats)", code(c.TicksMembers())))
	for _, n := range names {
		x := c.Devices[n]
		fmt.Fprintf(b, "   - %s: %%util %.1f, await %.2f ms (w_await %.2f), aqu-sz %.2f, %.1f w/s of %.1f kB, %.1f wkB/s, %.1f r/s, %.1f f/s\n",
			code(n), x.Util, x.Await, x.WAwait, x.AquSz, x.WPS, x.WareqSz, x.WkBPS, x.RPS, x.FPS)
	}
}

func (r *Report) findings(b *bytes.Buffer) {
	b.WriteString("## Findings\n\n")
	if len(r.D.Findings) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	for i, f := range r.D.Findings {
		fmt.Fprintf(b, "### %d. [%s] %s — %s\n\n", i+1, f.Severity, code(f.ID), esc(f.Title))
		fmt.Fprintf(b, "%s\n\n", esc(f.Summary))
		conf := f.Confidence.String()
		if f.ConfidenceWhy != "" {
			conf += " — " + esc(f.ConfidenceWhy)
		}
		fmt.Fprintf(b, "- Confidence: %s\n", conf)
		if s := subjectsText(f.Subjects); s != "" {
			fmt.Fprintf(b, "- Subjects: %s\n", s)
		}
		b.WriteString("- Evidence:\n")
		for _, e := range f.Evidence {
			where := code(e.Member)
			if e.Ticks != "" {
				where += ", ticks " + e.Ticks
			}
			fmt.Fprintf(b, "  - %s (%s)\n", esc(e.What), where)
			for _, l := range e.Lines {
				fmt.Fprintf(b, "    - %s\n", code(l))
			}
		}
		b.WriteString("\n")
	}
}

func subjectsText(s rules.Subjects) string {
	var parts []string
	if len(s.PIDs) > 0 {
		var p []string
		for _, x := range s.PIDs {
			p = append(p, fmt.Sprint(x))
		}
		parts = append(parts, "PID "+strings.Join(p, ", "))
	}
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+code(v))
		}
	}
	add("container", s.Container)
	add("pod", s.Pod)
	add("device", s.Device)
	add("file", s.Path)
	add("mount", s.Mount)
	add("cgroup", s.Cgroup)
	return strings.Join(parts, "; ")
}

// mitigations groups every finding's mitigations by horizon, most severe
// finding first, each action once.
func (r *Report) mitigations(b *bytes.Buffer) {
	b.WriteString("## Mitigations\n\n")
	serious := 0
	for _, f := range r.D.Findings {
		if f.Severity >= rules.Warning {
			serious++
		}
	}
	if serious == 0 {
		b.WriteString("None needed: no warning or critical finding.\n\n")
		return
	}
	for _, h := range []rules.Horizon{rules.Immediate, rules.ShortTerm, rules.LongTerm} {
		t := &table.Table{Columns: []table.Column{{Name: "Action", Left: true}, {Name: "How", Left: true}, {Name: "Expected effect", Left: true}, {Name: "For", Left: true}}}
		seen := map[string]bool{}
		for _, f := range r.D.Findings {
			if f.Severity < rules.Warning {
				continue
			}
			for _, m := range f.Mitigations {
				if m.Horizon != h || seen[m.Action] {
					continue
				}
				seen[m.Action] = true
				t.Add(table.Text(m.Action), table.Text(m.How), table.Text(m.Effect), table.Text(f.ID))
			}
		}
		if len(t.Rows) == 0 {
			continue
		}
		fmt.Fprintf(b, "### %s\n\n", strings.ToUpper(string(h[:1]))+string(h[1:]))
		t.Markdown(b)
		b.WriteString("\n")
	}
}

// appendix holds the tables and the limits of what was seen.
func (r *Report) appendix(b *bytes.Buffer) {
	c := r.D.Context
	m := r.M
	b.WriteString("## Appendix\n\n")
	if len(m.Ticks) >= 2 {
		fmt.Fprintf(b, "### iotop -aoP over the capture (%.0f s)\n\n", c.Seconds)
		t := &table.Table{Columns: []table.Column{{Name: "PID", Prec: -1}, {Name: "Command", Left: true}, {Name: "Container", Left: true},
			{Name: "Disk read", Left: true}, {Name: "Disk write", Left: true}, {Name: "wchar", Left: true}, {Name: "Write calls", Prec: -1}, {Name: "IO %", Prec: 1}}}
		if len(r.topProcesses(1)) == 0 {
			t = nil
			b.WriteString("No process did IO.\n")
		}
		for _, p := range r.topProcesses(10) {
			cont := ""
			if p.Proc.Container != nil {
				cont = p.Proc.Container.Name
			}
			t.Add(table.Int(int64(p.Proc.PID)), table.Text(p.Proc.Comm), table.Text(cont), table.Text(human(float64(p.Delta.IO.ReadBytes))),
				table.Text(human(float64(p.Delta.IO.WriteBytes))), table.Text(human(float64(p.Delta.IO.WChar))), table.Int(p.Delta.IO.SyscW), table.Num(p.IOPercent(m.Manifest.Host.UserHZ)))
		}
		if t != nil {
			t.Markdown(b)
		}
		fmt.Fprintf(b, "\n### iostat -x over the capture\n\n")
		t = &table.Table{Columns: []table.Column{{Name: "Device", Left: true}, {Name: "r/s", Prec: 2}, {Name: "rkB/s", Prec: 2}, {Name: "r_await", Prec: 2},
			{Name: "w/s", Prec: 2}, {Name: "wkB/s", Prec: 2}, {Name: "wareq-sz", Prec: 2}, {Name: "w_await", Prec: 2}, {Name: "f/s", Prec: 2}, {Name: "aqu-sz", Prec: 2}, {Name: "%util", Prec: 2}}}
		for _, n := range m.WholeDisks() {
			x, ok := c.Devices[n]
			if !ok || x.RPS+x.WPS+x.FPS == 0 {
				continue
			}
			t.Add(table.Text(n), table.Num(x.RPS), table.Num(x.RkBPS), table.Num(x.RAwait), table.Num(x.WPS), table.Num(x.WkBPS), table.Num(x.WareqSz), table.Num(x.WAwait), table.Num(x.FPS), table.Num(x.AquSz), table.Num(x.Util))
		}
		if len(t.Rows) == 0 {
			b.WriteString("No device did IO.\n")
		} else {
			t.Markdown(b)
		}
		b.WriteString("\n")
	}
	r.memory(b)
	r.mountsInvolved(b)
	r.limits(b)
}

// memory shows the dirty page cache against the kernel's limits, tick by
// tick: where buffered writes wait before writeback.
func (r *Report) memory(b *bytes.Buffer) {
	m := r.M
	if len(m.Ticks) == 0 || m.Ticks[0].Vmstat == nil {
		return
	}
	page := float64(m.Manifest.Host.PageSize) / 1024
	b.WriteString("### Dirty page cache and writeback\n\n")
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
	t.Markdown(b)
	s := m.Sysctl
	fmt.Fprintf(b, "\nvm.dirty_ratio %s, vm.dirty_background_ratio %s, vm.dirty_bytes %s, vm.dirty_background_bytes %s, vm.dirty_expire_centisecs %s (%s).\n\n",
		orDash(s["vm/dirty_ratio"]), orDash(s["vm/dirty_background_ratio"]), orDash(s["vm/dirty_bytes"]), orDash(s["vm/dirty_background_bytes"]), orDash(s["vm/dirty_expire_centisecs"]), code(bundle.HostMember))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (r *Report) mountsInvolved(b *bytes.Buffer) {
	c := r.D.Context
	type row struct{ path, mp, fstype, src, upper, dev string }
	var rows []row
	seen := map[string]bool{}
	for _, f := range r.D.Findings {
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
			rows = append(rows, row{f.Subjects.Path, pl.Mount.MountPoint, pl.Mount.FSType, pl.Mount.Source, up, pl.DescribeDevice()})
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Mounts involved\n\n")
	t := &table.Table{Columns: []table.Column{{Name: "File", Left: true}, {Name: "Mount", Left: true}, {Name: "Type", Left: true}, {Name: "Source", Left: true}, {Name: "Upper dir", Left: true}, {Name: "Device", Left: true}}}
	for _, x := range rows {
		t.Add(table.Text(x.path), table.Text(x.mp), table.Text(x.fstype), table.Text(x.src), table.Text(x.upper), table.Text(x.dev))
	}
	t.Markdown(b)
	b.WriteString("\n")
}

// limits says what the collector could not see and how that limits the
// verdict.
func (r *Report) limits(b *bytes.Buffer) {
	b.WriteString("### What the collector could not see\n\n")
	items := r.limitItems(code, esc)
	if len(items) == 0 {
		items = append(items, "Nothing: every source was read.")
	}
	for _, it := range items {
		fmt.Fprintf(b, "- %s\n", it)
	}
	b.WriteString("\n### Thresholds used\n\n")
	th := r.D.Context.T
	vals := th.Values()
	names := th.Names()
	sort.Strings(names)
	var kv []string
	for _, n := range names {
		kv = append(kv, fmt.Sprintf("%s=%g", n, vals[n]))
	}
	fmt.Fprintf(b, "%s\n", code(strings.Join(kv, " ")))
}

// limitItems lists what the collector could not see, for the Markdown
// appendix and the JSON "limits" alike; code and esc format member names
// and free text for the output at hand.
func (r *Report) limitItems(code, esc func(string) string) []string {
	m := r.M
	man := m.Manifest
	var items []string
	if man.Partial {
		items = append(items, "The bundle is partial: "+esc(man.PartialReason)+"; figures cover the ticks captured.")
	}
	if man.Collector.UID != 0 {
		items = append(items, fmt.Sprintf("The collector ran as uid %d, not root: other users' /proc/PID/io and traces were denied.", man.Collector.UID))
	}
	if m.Sysctl["kernel/task_delayacct"] == "0" {
		items = append(items, "kernel.task_delayacct was 0: per-process IO delay (iotop's IO %) is not measured, so stalls are judged from PSI and task states only.")
	}
	if len(m.Targets) == 0 {
		items = append(items, "No process was traced or described in detail (no targets): file names, fd flags and write sizes are unknown.")
	}
	for _, t := range m.Targets {
		if s := t.Info.Strace; s == nil || s.Member == "" {
			why := "not traced"
			if s != nil {
				why = fmt.Sprintf("trace %s (%s)", s.Status, s.StopReason)
			}
			items = append(items, fmt.Sprintf("Target %d (%s): %s, so its write sizes and syncs come from /proc counters and fd flags only.", t.Info.PID, esc(t.Info.Comm), esc(why)))
		} else if skipped := t.Trace.Skipped(); skipped != "" {
			items = append(items, fmt.Sprintf("Target %d (%s), %s: %s; the figures leave them out.", t.Info.PID, esc(t.Info.Comm), code(s.Member), skipped))
		}
	}
	for _, e := range man.Errors {
		items = append(items, fmt.Sprintf("%s %s: %s", code(e.Source), esc(string(e.Status)), esc(e.What)))
	}
	for _, bd := range man.Bounds {
		items = append(items, fmt.Sprintf("Bound %s hit: %s", code(bd.Name), esc(bd.What)))
	}
	for _, n := range m.Notes {
		items = append(items, fmt.Sprintf("Could not parse %s %s: %s", code(n.Member), code(n.Path), esc(n.What)))
	}
	var ours []string
	for _, p := range m.Procs {
		if p.Collector {
			ours = append(ours, fmt.Sprintf("%d (%s)", p.PID, p.Comm))
		}
	}
	if len(ours) > 0 {
		items = append(items, "The collector's own processes are left out of the analysis: PID "+esc(strings.Join(ours, ", "))+".")
	}
	if man.Redaction.Enabled {
		items = append(items, fmt.Sprintf("Redaction was on: syscall payloads were not captured and %d command-line value(s) were masked.", man.Redaction.MaskedArgs))
	}
	return items
}
