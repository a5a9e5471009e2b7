package explain

import (
	"fmt"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// chain walks the steps an SRE would take, for the culprit (or the busiest
// device when there is none), each with the bundle members it reads.
func (e *explainer) chain() []content.Step {
	c := e.c
	if len(e.m.Ticks) < 2 {
		return nil
	}
	var steps []content.Step
	next := func(title string, source content.Line) {
		steps = append(steps, content.Step{Title: title, Source: source, Facts: []content.Fact{}})
	}
	// addFact and add extend the step begun last.
	addFact := func(f content.Fact) {
		last := &steps[len(steps)-1]
		last.Facts = append(last.Facts, f)
	}
	add := func(l content.Line) { addFact(content.Fact{Text: l}) }

	// 1. Who does the IO.
	next("Who does the IO", linef("iotop -aoP over %.0f s, from %s", c.Seconds, code(c.TicksMembers())))
	if len(e.activeProcesses(1)) == 0 {
		add(linef("no process read, wrote or issued a write syscall"))
	}
	for _, p := range e.activeProcesses(5) {
		if p.Proc.Kernel && float64(p.DiskBytes()) < c.Thresholds.KernelThreadMinBytes {
			continue // a kernel thread's small share is background
		}
		if p.Proc.Kernel {
			add(linef("PID %d %s (kernel thread, writing on others' behalf: writeback, a loop device, the journal): wrote %s, read %s",
				p.Proc.PID, code(p.Proc.Comm), prose.Bytes(float64(p.Delta.IO.WriteBytes)), prose.Bytes(float64(p.Delta.IO.ReadBytes))))
			continue
		}
		share := 0.0
		if c.UserDiskBytes > 0 {
			share = float64(p.DiskBytes()) / float64(c.UserDiskBytes) * 100
		}
		if p.Proc.ReapedBy != 0 {
			add(linef("%s, never sampled: wrote %s, read %s (%.0f %% of process disk bytes); wchar %s in %d writes (the kernel added their counters to PID %d's as it reaped them)",
				text(prose.Sentence(window.Name(p.Proc))), prose.Bytes(float64(p.Delta.IO.WriteBytes)), prose.Bytes(float64(p.Delta.IO.ReadBytes)), share, prose.Bytes(float64(p.Delta.IO.WChar)), p.Delta.IO.SyscW, p.Proc.ReapedBy))
			continue
		}
		add(linef("PID %d %s: wrote %s, read %s (%.0f %% of process disk bytes); wchar %s in %d writes",
			p.Proc.PID, code(p.Proc.Comm), prose.Bytes(float64(p.Delta.IO.WriteBytes)), prose.Bytes(float64(p.Delta.IO.ReadBytes)), share, prose.Bytes(float64(p.Delta.IO.WChar)), p.Delta.IO.SyscW))
	}
	cp := e.d.CulpritProc
	if v := e.d.Verdict.Culprit; v != nil && v.Kind == "device" {
		// A failing device: what the kernel said, then the device.
		next("What the kernel logged", linef("dmesg, %s", code(bundle.KmsgMember)))
		for _, f := range e.d.Findings {
			if f.ID != e.d.Verdict.Primary || f.Subjects.Device != v.Device {
				continue
			}
			for _, ev := range f.Evidence {
				add(linef("%s", text(ev.What)))
				for _, l := range ev.Lines {
					add(linef("%s", code(l)))
				}
			}
		}
		e.deviceStep(next, add, v.Device)
		return steps
	}
	if cp == nil {
		e.deviceStep(next, add, "")
		return steps
	}

	// 2. What it is.
	next("What it is", linef("ps and the process table, %s", code(bundle.ProcTableMember)))
	add(linef("PID %d, parent %d, uid %d: %s", cp.PID, cp.PPID, cp.UID, code(window.Cmdline(cp))))
	if cp.Container != nil {
		add(linef("container %s (%s)", code(cp.Container.Name), text(cp.Container.Source)))
	}
	if sv := cp.Serves(); sv != nil {
		add(linef("a %s serving container %s (%s)", text(cp.RuntimeKind()), code(sv.Name), text(sv.Source)))
	}
	for _, label := range cp.CgroupLabels("blkio", "memory") {
		add(linef("cgroup %s", code(label)))
	}

	// 3. Its counters.
	if pio := c.ByPID[cp.PID]; pio != nil {
		io := pio.Delta.IO
		next("Its /proc counters", linef("/proc/%d/io, %s", cp.PID, code(c.TicksMembers())))
		add(linef("over %.1f s: write_bytes +%d, wchar +%d, syscw +%d; read_bytes +%d, rchar +%d, syscr +%d", pio.Seconds, io.WriteBytes, io.WChar, io.SyscW, io.ReadBytes, io.RChar, io.SyscR))
		if io.SyscW > 0 {
			add(linef("%.0f write syscalls per second of %.0f bytes on average", float64(io.SyscW)/pio.Seconds, float64(io.WChar)/float64(io.SyscW)))
		}
		if io.WChar > 0 && io.WriteBytes > 0 {
			ratio := float64(io.WriteBytes) / float64(io.WChar)
			// write_bytes counts pages dirtied (or written directly), not
			// what the device wrote: the block trace says that.
			meaning := "pages dirtied match the bytes handed to write(); what the device wrote, journal and flushes included, is the block trace's"
			switch {
			case ratio > c.Thresholds.WriteMatchHigh:
				meaning = "more pages dirtied than bytes handed to write(): each small write dirties a page again"
			case ratio < c.Thresholds.WriteMatchLow:
				meaning = "fewer pages dirtied than bytes handed to write(): page-cache absorption, overwrite, or non-disk targets"
			}
			add(linef("write_bytes/wchar = %.2f (%s)", ratio, meaning))
		} else if io.WChar > 0 {
			add(linef("write_bytes is 0: its writes went to pipes, sockets or a filesystem that does not account dirty pages (tmpfs)"))
		}
	}

	// 4. Its syscalls.
	tv := c.Target(cp.PID)
	switch {
	case tv == nil:
		next("Its syscalls", linef("not traced: the collector did not pick it as a target"))
	case tv.Summary == nil:
		why := "no trace"
		if st := tv.Target.Info.Strace; st != nil {
			why = fmt.Sprintf("no trace (%s, %s)", st.Status, st.StopReason)
		}
		next("Its syscalls", linef("%s", text(why)))
	default:
		st := tv.Target.Info.Strace
		next("Its syscalls", linef("strace -f -tt -T -y for %.1f s (stopped by %s), %s", st.TracedSeconds, text(st.StopReason), code(st.Member)))
		for i, sc := range tv.Summary.Syscalls {
			if i == 4 {
				break
			}
			add(linef("%s: %d calls (%.0f/s), %d bytes, %s", code(sc.Name), sc.Calls, float64(sc.Calls)/st.TracedSeconds, sc.Bytes, text(sc.Latency().Mean())))
		}
		for i, f := range tv.Summary.Files {
			if i == 3 || f.Writes+f.Syncs == 0 {
				break
			}
			fact := content.Fact{Text: linef("%s (%s): %d writes of %.0f bytes on average, %d syncs (%d right after a write)", code(f.Path), f.Kind, f.Writes, f.AvgWrite(), f.Syncs, f.SyncAfterWrite)}
			if ex := f.TypicalWriteLines(); len(ex) > 0 {
				fact.Quote = tv.Target.TraceLine(ex[0])
			}
			addFact(fact)
		}
		add(linef("strace slows the traced process: its rates under trace are lower than the /proc figures above"))
	}
	hot := c.HotFile(tv)
	findingDev := e.d.FindingDevice()
	if pl, ok := c.Place(tv, hot); ok && findingDev != "" && pl.Device != findingDev {
		// The file it writes most lands elsewhere (a sync caller's own
		// log on the root disk): the chain follows the device the
		// finding is about, not that file.
		hot = ""
	}
	if hot != "" {
		for _, fd := range tv.Target.FDs {
			if fd.Path == hot && fd.Info != nil {
				add(linef("fd %d on it is open %s (fdinfo flags 0%o, %s)", fd.Num, text(fd.Info.Flags.Names(e.m.Manifest.Host.Arch)), uint64(fd.Info.Flags), code(bundle.TargetMember(cp.PID))))
			}
		}
	}

	// 5. The filesystem.
	dev := ""
	if hot != "" {
		if pl, ok := c.Place(tv, hot); ok {
			next("The filesystem it lands on", linef("findmnt -T in the process's mount namespace, %s", code(bundle.TargetMember(cp.PID))))
			add(linef("%s is on %s, type %s, source %s", code(hot), code(pl.Mount.MountPoint), text(pl.Mount.FSType), code(pl.Mount.Source)))
			if pl.Overlay != nil {
				add(linef("overlayfs: upperdir %s, %d lower layer(s); the file's data goes to %s", code(pl.Overlay.Upper), len(pl.Overlay.Lower), code(pl.UpperPath)))
			}
			add(linef("on the host that is %s (%s) on device %s", code(pl.HostMount.MountPoint), text(pl.HostMount.FSType), text(pl.DescribeDevice())))
			dev = pl.Device
		}
	}
	if dev == "" && findingDev != "" {
		dev = findingDev
		e.filesystemsOn(next, add, dev)
	}
	e.deviceStep(next, add, dev)
	return steps
}

// filesystemsOn is the step for a finding about a device no file of the
// culprit's names (a sync() caller, an msync writer known by its
// mappings): the filesystems mounted on that device.
func (e *explainer) filesystemsOn(next func(string, content.Line), add func(content.Line), dev string) {
	var mounts []procfs.Mount
	for _, mt := range e.m.Mounts {
		if mt.Major != 0 && e.m.DiskName(procfs.Dev{Major: mt.Major, Minor: mt.Minor}) == dev {
			mounts = append(mounts, mt)
		}
	}
	if len(mounts) == 0 {
		return
	}
	next("The filesystem on "+dev, linef("mountinfo, %s", code(bundle.HostMember)))
	for _, mt := range mounts {
		add(linef("%s is mounted on %s, type %s", code(mt.Source), code(mt.MountPoint), text(mt.FSType)))
	}
}

// deviceStep is iostat -x for the device the culprit's file lands on (and,
// for a loop device, the devices that write its backing file), or for
// every device that did IO.
func (e *explainer) deviceStep(next func(string, content.Line), add func(content.Line), dev string) {
	c := e.c
	names := []string{}
	if dev != "" {
		names = append(names, dev)
		if bl := e.m.Blocks[dev]; bl != nil && bl.BackingFile != "" {
			// A loop device's writes reach the device holding its file.
			for _, n := range e.m.WholeDisks() {
				if n != dev && c.Devices[n].WkBPS > 0 {
					names = append(names, n)
				}
			}
		}
	} else {
		for _, n := range e.m.WholeDisks() {
			if x := c.Devices[n]; x.RPS+x.WPS > 0 {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	next("The device", linef("iostat -x over the capture, %s (/proc/diskstats)", code(c.TicksMembers())))
	for _, n := range names {
		x := c.Devices[n]
		add(linef("%s: %%util %.1f, await %.2f ms (w_await %.2f), aqu-sz %.2f, %.1f w/s of %.1f kB, %.1f wkB/s, %.1f r/s, %.1f f/s",
			code(n), x.Util, x.Await, x.WAwait, x.AquSz, x.WPS, x.WareqSz, x.WkBPS, x.RPS, x.FPS))
	}
}
