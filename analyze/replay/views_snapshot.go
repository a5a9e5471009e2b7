package replay

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/internal/table"
)

// ps is the process table at one tick, with CPU% over the interval
// before it and the container each process belongs to.
func ps(m *model.Model, o Options) ([]Block, error) {
	k := snapshotTick(m, o)
	from := max(k-o.Window, 0)
	secs := m.Seconds(from, k)
	hz := float64(max(m.Manifest.Host.UserHZ, 1))
	t := &table.Table{Columns: []table.Column{{Name: "PID", Prec: -1}, {Name: "PPID", Prec: -1}, {Name: "UID", Prec: -1}, {Name: "S", Key: "state", Left: true},
		{Name: "%CPU", Prec: 1, Key: "cpu_pct"}, {Name: "NLWP", Prec: -1}, {Name: "CONTAINER", Left: true}, {Name: "COMMAND", Left: true}}}
	for _, p := range m.Procs {
		cur := pointAt(m, p, k)
		if cur == nil || (!o.All && p.Kernel) {
			continue
		}
		cpu := 0.0
		if prev := pointAt(m, p, from); prev != nil && secs > 0 {
			cpu = float64(cur.CPUTicks-prev.CPUTicks) / hz / secs * 100
		}
		t.Add(table.Int(int64(p.PID)), table.Int(int64(p.PPID)), table.Int(int64(p.UID)), table.Text(string(cur.State)),
			table.Num(cpu), table.Int(cur.Threads), table.Text(containerName(p)), table.Text(command(p)))
	}
	title := blockTitle(m, k, k)
	if !o.All {
		title += " (kernel threads hidden; --all shows them)"
	}
	return []Block{{Title: title, From: from, To: k, Time: m.Ticks[k].Wall, Seconds: secs, Table: t}}, nil
}

// pidio is cat /proc/PID/io at every tick, with the increments.
func pidio(m *model.Model, o Options) ([]Block, error) {
	if o.PID <= 0 {
		return nil, fmt.Errorf("pidio needs a PID: iorca replay BUNDLE pidio PID")
	}
	var blocks []Block
	found := false
	for _, p := range m.Procs {
		if p.PID != o.PID {
			continue
		}
		found = true
		cols := []table.Column{{Name: "tick", Prec: -1}, {Name: "time", Left: true}}
		for _, n := range []string{"rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes"} {
			cols = append(cols, table.Column{Name: n, Prec: -1}, table.Column{Name: "Δ" + n, Key: "delta_" + n, Prec: -1})
		}
		t := &table.Table{Columns: cols}
		var prev *model.Point
		for k := p.First; k <= p.Last; k++ {
			pt := pointAt(m, p, k)
			if pt == nil || !pt.HasIO {
				continue
			}
			if o.Tick >= 0 && (pt.Tick < o.Tick-o.Window || pt.Tick > o.Tick) {
				prev = pt
				continue
			}
			cur := []int64{pt.IO.RChar, pt.IO.WChar, pt.IO.SyscR, pt.IO.SyscW, pt.IO.ReadBytes, pt.IO.WriteBytes, pt.IO.CancelledWriteBytes}
			var old []int64
			if prev != nil {
				old = []int64{prev.IO.RChar, prev.IO.WChar, prev.IO.SyscR, prev.IO.SyscW, prev.IO.ReadBytes, prev.IO.WriteBytes, prev.IO.CancelledWriteBytes}
			}
			row := []table.Cell{table.Int(int64(pt.Tick)), table.Text(m.Ticks[pt.Tick].Wall.UTC().Format("15:04:05.000"))}
			for j, v := range cur {
				d := table.Text("")
				if old != nil {
					d = table.Int(v - old[j])
				}
				row = append(row, table.Int(v), d)
			}
			t.Add(row...)
			prev = pt
		}
		title := fmt.Sprintf("/proc/%d/io of %s (started %.2f s after boot)", p.PID, command(p), float64(p.Start)/float64(max(m.Manifest.Host.UserHZ, 1)))
		blocks = append(blocks, Block{Title: title, From: p.First, To: p.Last, Time: m.Ticks[p.First].Wall, Table: t})
	}
	if !found {
		return nil, fmt.Errorf("PID %d is not in the bundle", o.PID)
	}
	return blocks, nil
}

// straceView summarises each target's trace.
func straceView(m *model.Model, o Options) ([]Block, error) {
	var blocks []Block
	for _, tg := range m.Targets {
		if o.PID > 0 && tg.Info.PID != o.PID {
			continue
		}
		s := tg.Summary()
		name := fmt.Sprintf("target %d (%s)", tg.Info.PID, tg.Info.Comm)
		if s == nil {
			why := "no trace"
			if st := tg.Info.Strace; st != nil {
				why = fmt.Sprintf("no trace (%s: %s)", st.Status, st.StopReason)
			}
			blocks = append(blocks, Block{Title: name + ": " + why, Table: &table.Table{Columns: []table.Column{{Name: "-"}}}})
			continue
		}
		info := tg.Info.Strace
		head := []string{fmt.Sprintf("traced %.2f s (%s), %d lines, stopped by %s; strace slows the traced process, so rates here are lower bounds",
			info.TracedSeconds, info.Start.Wall.UTC().Format("15:04:05"), s.Lines, info.StopReason)}
		if skipped := tg.Trace.Skipped(); skipped != "" {
			head = append(head, skipped+"; the tables leave them out")
		}
		sc := &table.Table{Columns: []table.Column{{Name: "syscall", Left: true}, {Name: "calls", Prec: -1}, {Name: "errors", Prec: -1},
			{Name: "bytes", Prec: -1}, {Name: "calls/s", Prec: 1, Key: "calls_per_s"}, {Name: "avg us", Prec: 1, Key: "avg_us"}, {Name: "max us", Prec: -1, Key: "max_us"}}}
		for _, st := range s.Syscalls {
			avg := st.Latency().AvgUS()
			cps := 0.0
			if s.Seconds > 0 {
				cps = float64(st.Calls) / s.Seconds
			}
			sc.Add(table.Text(st.Name), table.Int(int64(st.Calls)), table.Int(int64(st.Errors)), table.Int(st.Bytes), table.Num(cps), table.Num(avg), table.Int(st.MaxUS))
		}
		blocks = append(blocks, Block{Title: name + ": syscalls", Header: head, Seconds: s.Seconds, Table: sc})
		cols := []table.Column{{Name: "file", Left: true}, {Name: "kind", Left: true}, {Name: "writes", Prec: -1}, {Name: "bytes", Prec: -1},
			{Name: "avg B", Prec: 1, Key: "avg_write_bytes"}}
		for _, b := range model.SizeBucketNames {
			cols = append(cols, table.Column{Name: b, Key: "writes_" + SnakeKey(b), Prec: -1})
		}
		cols = append(cols, table.Column{Name: "syncs", Prec: -1}, table.Column{Name: "write->sync", Prec: -1, Key: "sync_after_write"},
			table.Column{Name: "reads", Prec: -1}, table.Column{Name: "read B", Prec: -1, Key: "read_bytes"})
		ft := &table.Table{Columns: cols}
		for _, f := range s.Files {
			row := []table.Cell{table.Text(f.Path), table.Text(f.Kind), table.Int(int64(f.Writes)), table.Int(f.WriteBytes), table.Num(f.AvgWrite())}
			for _, n := range f.WriteHist {
				row = append(row, table.Int(int64(n)))
			}
			row = append(row, table.Int(int64(f.Syncs)), table.Int(int64(f.SyncAfterWrite)), table.Int(int64(f.Reads)), table.Int(f.ReadBytes))
			ft.Add(row...)
		}
		blocks = append(blocks, Block{Title: name + ": files touched (write sizes by bucket)", Seconds: s.Seconds, Table: ft})
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("no targets in the bundle (the collector picked none, or --pid matched none)")
	}
	return blocks, nil
}

// findmnt lists mounts, or resolves --target to its mount.
func findmnt(m *model.Model, o Options) ([]Block, error) {
	mounts, whose := m.Mounts, "the collector's (host) mount namespace"
	if o.PID > 0 {
		mounts = nil
		for _, tg := range m.Targets {
			if tg.Info.PID == o.PID {
				mounts, whose = tg.Mounts, fmt.Sprintf("PID %d's mount namespace", o.PID)
			}
		}
		if mounts == nil {
			return nil, fmt.Errorf("no mount table for PID %d: only targets' tables are captured", o.PID)
		}
	}
	cols := []table.Column{{Name: "TARGET", Left: true}, {Name: "SOURCE", Left: true}, {Name: "FSTYPE", Left: true}, {Name: "MAJ:MIN", Left: true}, {Name: "OPTIONS", Left: true}}
	if o.Target != "" {
		mt, ok := model.MountFor(mounts, o.Target)
		if !ok {
			return nil, fmt.Errorf("no mount holds %s in %s", o.Target, whose)
		}
		t := &table.Table{Columns: cols}
		t.Add(table.Text(mt.MountPoint), table.Text(mt.Source), table.Text(mt.FSType), table.Text(fmt.Sprintf("%d:%d", mt.Major, mt.Minor)), table.Text(mt.Options+" "+mt.SuperOptions))
		var head []string
		if ov, ok := mt.Overlay(); ok {
			head = append(head, "overlayfs layers:")
			for i, l := range ov.Lower {
				head = append(head, fmt.Sprintf("  lower[%d]  %s", i, l))
			}
			head = append(head, "  upper     "+ov.Upper, "  work      "+ov.Work)
			if up, ok := model.UpperPath(mt, o.Target); ok {
				head = append(head, "writes to "+o.Target+" land in "+up+" (after copy-up) on the upper layer's filesystem")
				if um, ok := model.MountFor(m.Mounts, up); ok {
					head = append(head, fmt.Sprintf("which is %s (%s, device %d:%d %s)", um.MountPoint, um.FSType, um.Major, um.Minor, m.DeviceName(procfs.Dev{Major: um.Major, Minor: um.Minor})))
				}
			}
		}
		return []Block{{Title: "findmnt -T " + o.Target + " in " + whose, Header: head, Table: t}}, nil
	}
	t := &table.Table{Columns: cols}
	sorted := append([]procfs.Mount(nil), mounts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].MountPoint < sorted[j].MountPoint })
	for _, mt := range sorted {
		if !o.All && isPseudo(mt.FSType) {
			continue
		}
		opts := mt.Options
		if ov, ok := mt.Overlay(); ok {
			opts += " upperdir=" + ov.Upper + " lowerdir=" + strings.Join(ov.Lower, ":")
		}
		t.Add(table.Text(mt.MountPoint), table.Text(mt.Source), table.Text(mt.FSType), table.Text(fmt.Sprintf("%d:%d", mt.Major, mt.Minor)), table.Text(opts))
	}
	title := "mounts in " + whose
	if !o.All {
		title += " (pseudo filesystems hidden; --all shows them)"
	}
	return []Block{{Title: title, Table: t}}, nil
}

func isPseudo(fs string) bool {
	switch fs {
	case "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf",
		"configfs", "fusectl", "hugetlbfs", "binfmt_misc", "autofs", "nsfs", "rpc_pipefs", "devtmpfs":
		return true
	}
	return false
}

// timeline prints one line per tick.
func timeline(m *model.Model, o Options) ([]Block, error) {
	t := &table.Table{Columns: []table.Column{{Name: "tick", Prec: -1}, {Name: "time", Left: true}, {Name: "busiest", Left: true},
		{Name: "%util", Prec: 1, Key: "util_pct"}, {Name: "await ms", Prec: 2, Key: "await_ms"}, {Name: "wkB/s", Prec: 0},
		{Name: "top writer", Left: true, Key: "top_writer"}, {Name: "wr kB/s", Prec: 0, Key: "top_writer_kb_per_s"},
		{Name: "PSI some%", Prec: 2, Key: "psi_some_pct"}, {Name: "PSI full%", Prec: 2, Key: "psi_full_pct"},
		{Name: "Dirty kB", Prec: -1, Key: "dirty_kb"}, {Name: "blocked", Prec: -1}, {Name: "mark", Left: true}}}
	whole := m.WholeDisks()
	for k := 1; k < len(m.Ticks); k++ {
		if o.Tick >= 0 && (k < o.Tick-o.Window+1 || k > o.Tick) {
			continue
		}
		rates := m.DeviceIostat(k-1, k)
		best, bestName := model.Iostat{}, "-"
		for _, d := range whole {
			if x, ok := rates[d]; ok && (bestName == "-" || x.Util > best.Util) {
				best, bestName = x, d
			}
		}
		top, topRate := "-", 0.0
		for _, pio := range m.ProcessIO(k-1, k) {
			// Kernel threads (writeback, a loop device's worker) write on
			// behalf of others: the top writer is a user process.
			if pio.Proc.Kernel || pio.Proc.Collector {
				continue
			}
			if r := pio.WriteRate() / 1024; r > topRate {
				top, topRate = fmt.Sprintf("%d %s", pio.Proc.PID, pio.Proc.Comm), r
			}
		}
		tk := m.Ticks[k]
		some, full := psiCells(m, k)
		var blocked int64
		if tk.Stat != nil {
			blocked = int64(tk.Stat.ProcsBlocked)
		}
		t.Add(table.Int(int64(k)), table.Text(tk.Wall.UTC().Format("15:04:05")), table.Text(bestName), table.Num(best.Util), table.Num(best.Await),
			table.Num(best.WkBPS), table.Text(top), table.Num(topRate), some, full, table.Int(int64(tk.Meminfo["Dirty"])), table.Int(blocked), table.Text(o.Marks[k]))
	}
	return []Block{{Title: fmt.Sprintf("timeline of %d ticks", len(m.Ticks)), Header: []string{timelinePSINote}, Table: t}}, nil
}

// timelinePSINote says what the PSI columns are, because the kernel's
// own avg10 would read differently.
const timelinePSINote = "PSI some% and full%: the share of the tick's interval in which some (all) non-idle tasks were stalled on IO, " +
	"from the growth of /proc/pressure/io's total= counters; the figure iorca-collect --trigger psi_some tests and the report quotes, " +
	"not the kernel's avg10 (a 10 s running average); - where a tick has no PSI"

// psiCells are the PSI shares of the interval ending at tick k, "-" when
// either end has no PSI.
func psiCells(m *model.Model, k int) (some, full table.Cell) {
	s, f, ok := m.PSIShare(k-1, k)
	if !ok {
		return table.Text("-"), table.Text("-")
	}
	return table.Num(s), table.Num(f)
}
