package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/iorca/iorca/analyze/advice"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// kernelIOErrors reports what the kernel log says about failing devices
// and filesystems (REFERENCE-IO.md 10.1), one finding per device: its IO
// errors and lost writes, and what the kernel did about them — a journal
// aborted, a filesystem remounted read-only (checked against the mount
// table at the end of the capture). Every record is placed on the
// capture's clock. Errors during the capture, or less than
// RecentErrorS before it, are critical: the device is failing now. Older
// ones are info with their age, and errors about a name that was since
// attached to another device (loop device names are reused) are said to
// be about the device it named before. Hung tasks are one finding of
// their own.
var kernelIOErrors = &Rule{ID: "kernel-io-errors",
	Role: content.Background, Check: checkKernelIOErrors, FromState: true,
	Watch: []Watch{AlertReadOnly},
}

func checkKernelIOErrors(c *window.Window) []content.Finding {
	evs := c.Model.KernelEvents()
	byDev := map[string][]model.KernelEvent{}
	var hung []model.KernelEvent
	for _, e := range evs {
		switch {
		case e.Kind == model.HungTask:
			hung = append(hung, e)
		case e.Error() && e.Device != "":
			byDev[e.Device] = append(byDev[e.Device], e)
		}
	}
	var out []content.Finding
	for _, d := range sortedKeys(byDev) {
		out = append(out, deviceErrors(c, evs, d, byDev[d]))
	}
	if f, ok := hungTasks(c, hung); ok {
		out = append(out, f)
	}
	return out
}

// recentEvent reports whether an event is part of the incident: after the
// capture's start (during it, or logged between its end and the read of
// the log), or less than RecentErrorS before it.
func recentEvent(c *window.Window, e model.KernelEvent) bool {
	return e.Offset >= 0 || -e.Offset.Seconds() <= c.Thresholds.RecentErrorS
}

// when says when an event was logged, on the capture's clock.
func when(e model.KernelEvent) string {
	switch {
	case e.Offset >= 0:
		return fmt.Sprintf("at +%.1f s", e.Offset.Seconds())
	default:
		return ago(-e.Offset) + " before the capture"
	}
}

// ago formats an age: seconds, minutes or hours.
func ago(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < 2*time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < 2*time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	default:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
}

// deviceErrors is the finding about one device's errors.
func deviceErrors(c *window.Window, all []model.KernelEvent, dev string, evs []model.KernelEvent) content.Finding {
	var now, old []model.KernelEvent
	var replacedBy *model.KernelEvent
	attach, attached := model.LastAttach(all, dev)
	for _, e := range evs {
		if attached && attach.Record.Usec > e.Record.Usec {
			old = append(old, e)
			replacedBy = &attach
			continue
		}
		if recentEvent(c, e) {
			now = append(now, e)
		} else {
			old = append(old, e)
		}
	}
	var lines []string
	for _, e := range evs[max(0, len(evs)-6):] {
		lines = append(lines, fmt.Sprintf("[%12.6f] (%s) %s", float64(e.Record.Usec)/1e6, when(e), strings.ReplaceAll(e.Record.Text, "\n", " | ")))
	}
	ev := content.Evidence{Member: bundle.KmsgMember, What: fmt.Sprintf("%d kernel log record(s) about %s, %d of them during the capture or in the %s before it and about today's %s; the last ones (seconds since boot, and on the capture's clock):", len(evs), dev, len(now), ago(time.Duration(c.Thresholds.RecentErrorS)*time.Second), dev), Lines: lines,
		Figures: map[string]float64{FigRecords: float64(len(evs)), FigRecent: float64(len(now))}}
	f := content.Finding{ID: "kernel-io-errors", Confidence: content.High, Score: float64(len(now)), Subjects: content.Subjects{Device: dev}, Evidence: []content.Evidence{ev}}
	if len(now) == 0 {
		last := old[len(old)-1]
		f.Severity = content.Info
		f.Title = fmt.Sprintf("Old kernel IO errors about %s, the last %s", dev, when(last))
		f.Summary = fmt.Sprintf("The kernel log holds %d IO error record(s) about %s, the last %s.", len(old), dev, when(last))
		if replacedBy != nil {
			f.Summary += fmt.Sprintf(" The name %s was attached to a device again %s (%q), so they were about the device it named before, not today's %s.", dev, when(*replacedBy), replacedBy.Record.Text, dev)
		} else {
			f.Summary += fmt.Sprintf(" They are older than the %s before the capture that count as part of an incident.", ago(time.Duration(c.Thresholds.RecentErrorS)*time.Second))
			if c.Model.Blocks[dev] == nil && len(c.Model.Blocks) > 0 && !isPartition(c, dev) {
				f.Summary += fmt.Sprintf(" %s is not among the node's block devices now: it was removed since.", dev)
			}
		}
		f.Mitigations = []content.Mitigation{{Horizon: content.LongTerm, Action: "Check the device's health if it is still in use", How: healthHow(c, dev), Effect: "A device that failed once is found before it fails again"}}
		return f
	}
	// Failing now: the cause, whoever writes to the device.
	f.Severity, f.Role = content.Critical, content.Failure
	count := map[model.KernelEventKind]int{}
	first := map[model.KernelEventKind]model.KernelEvent{}
	for _, e := range now {
		if _, ok := first[e.Kind]; !ok {
			first[e.Kind] = e
		}
		count[e.Kind]++
	}
	ioErrs := count[model.IOError] + count[model.LostWrite]
	var parts []string
	if ioErrs > 0 {
		start := first[model.IOError]
		if e, ok := first[model.LostWrite]; ok && (start.Record.Usec == 0 || e.Record.Usec < start.Record.Usec) {
			start = e
		}
		p := fmt.Sprintf("%d IO error record(s) starting %s", ioErrs, when(start))
		if lost := lostWrites(now); lost != "" {
			p += ", " + lost
		}
		parts = append(parts, p)
	}
	if n := count[model.FSError]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d filesystem error record(s) starting %s", n, when(first[model.FSError])))
	}
	if e, ok := first[model.JournalAbort]; ok {
		parts = append(parts, fmt.Sprintf("the journal on it aborted %s (the filesystem takes no more transactions)", when(e)))
	}
	mounts := c.MountsOf(dev)
	var mps, named []string
	for _, m := range mounts {
		mps = append(mps, m.MountPoint)
		named = append(named, fmt.Sprintf("%s (%s)", m.MountPoint, m.FSType))
	}
	if e, ok := first[model.ReadOnly]; ok {
		where := "its filesystem"
		if len(named) > 0 {
			where = strings.Join(named, ", ")
		}
		parts = append(parts, fmt.Sprintf("the kernel made %s read-only %s", where, when(e)))
	}
	f.Title = fmt.Sprintf("Device %s is failing: the kernel logged IO errors on it during the capture", dev)
	if !anyDuring(now) {
		f.Title = fmt.Sprintf("Device %s is failing: the kernel logged IO errors on it %s", dev, when(now[len(now)-1]))
	}
	f.Summary = fmt.Sprintf("Device %s failed IO: %s.", dev, prose.JoinAnd(parts))
	// The mount table at the end says what the applications meet now.
	ro := c.ReadOnlyAtEnd(dev)
	switch {
	case len(ro) > 0:
		f.Title = fmt.Sprintf("Device %s is failing and %s is read-only", dev, strings.Join(ro, ", "))
		f.Summary += fmt.Sprintf(" At the end of the capture %s is mounted read-only: every write there fails with EROFS (\"Read-only file system\"), which explains the applications' write errors from then on.", strings.Join(ro, ", "))
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.EndMember + " (/proc/self/mountinfo)", What: fmt.Sprintf("mounted read-only at the end of the capture: %s", strings.Join(ro, ", "))})
	case c.Model.MountsEnd == nil && first[model.ReadOnly].Record.Usec != 0:
		f.Summary += " (This bundle has no mount table from the end of the capture to confirm it.)"
	}
	// What the applications met: their traced writes to files on it
	// that failed.
	for _, e := range failedWrites(c, dev) {
		f.Evidence = append(f.Evidence, e)
		if len(f.Subjects.PIDs) == 0 {
			f.Summary += " " + strings.TrimSuffix(e.What, ".") + "."
		}
	}
	if lost, ev, ok := writtenAfter(c, dev, now); ok {
		f.Summary += " " + lost
		f.Evidence = append(f.Evidence, ev...)
	}
	if b := c.Model.Blocks[dev]; b != nil && b.BackingFile != "" {
		f.Summary += fmt.Sprintf(" Device %s is a loop device backed by %s: its errors are that file's, or its filesystem's device's.", dev, b.BackingFile)
	}
	f.Mitigations = []content.Mitigation{
		{Horizon: content.Immediate, Action: "Stop writing to the filesystems on " + dev + " and save what matters", How: failOverHow(c, dev) + "; copy what is still readable off " + orText(strings.Join(mps, ", "), dev), Effect: "No more lost writes; data that is still readable is kept"},
		{Horizon: content.Immediate, Action: "Check the device's health", How: healthHow(c, dev), Effect: "Whether the device, its path or its host failed is known"},
		checkFilesystem(c, dev),
	}
	return f
}

func anyDuring(evs []model.KernelEvent) bool {
	for _, e := range evs {
		if e.During {
			return true
		}
	}
	return false
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// healthHow says how to check a device's health by its kind.
func healthHow(c *window.Window, dev string) string {
	switch {
	case strings.HasPrefix(dev, "loop"):
		how := "A loop device fails when its backing file does: check the filesystem and device that hold it"
		if b := c.Model.Blocks[dev]; b != nil && b.BackingFile != "" {
			how += " (" + b.BackingFile + ")"
		}
		return how
	case strings.HasPrefix(dev, "nvme"):
		return "nvme smart-log /dev/" + dev + "; for a cloud volume, the provider's volume status"
	case strings.HasPrefix(dev, "vd") || strings.HasPrefix(dev, "xvd"):
		return "A virtual disk: the hypervisor's or cloud provider's volume status and its host's storage"
	}
	return "smartctl -a /dev/" + dev + " (media errors, reallocated sectors); for a virtual disk, the hypervisor's volume status"
}

// isPartition reports whether dev is a partition of a device the bundle
// describes (sda1 of sda): partitions are not listed in /sys/block.
func isPartition(c *window.Window, dev string) bool {
	for name := range c.Model.Blocks {
		if strings.HasPrefix(dev, name) && len(dev) > len(name) {
			return true
		}
	}
	return false
}

// hungTasks is the finding about tasks the kernel reported blocked.
func hungTasks(c *window.Window, hung []model.KernelEvent) (content.Finding, bool) {
	if len(hung) == 0 {
		return content.Finding{}, false
	}
	recent := 0
	var tasks []string
	seen := map[string]bool{}
	var lines []string
	for _, e := range hung {
		if recentEvent(c, e) {
			recent++
		}
		if !seen[e.Task] {
			seen[e.Task] = true
			tasks = append(tasks, e.Task)
		}
	}
	for _, e := range hung[max(0, len(hung)-5):] {
		lines = append(lines, fmt.Sprintf("[%12.6f] (%s) %s", float64(e.Record.Usec)/1e6, when(e), strings.ReplaceAll(e.Record.Text, "\n", " | ")))
	}
	last := hung[len(hung)-1]
	f := content.Finding{ID: "kernel-io-errors", Severity: content.Info, Confidence: content.High, Score: float64(recent),
		Title:   fmt.Sprintf("The kernel reported tasks blocked on IO (hung task), the last %s", when(last)),
		Summary: fmt.Sprintf("%d hung-task report(s) about %s: each task waited in D state longer than kernel.hung_task_timeout_secs.", len(hung), strings.Join(tasks, ", ")),
		Evidence: []content.Evidence{{Member: bundle.KmsgMember, What: fmt.Sprintf("%d records; the last ones:", len(hung)), Lines: lines,
			Figures: map[string]float64{FigRecords: float64(len(hung)), FigRecent: float64(recent)}}},
		Mitigations: []content.Mitigation{{Horizon: content.Immediate, Action: "See what the blocked tasks wait on", How: "The stacks in the kernel log after each report; cat /proc/PID/stack of tasks still in D state", Effect: "The device or lock they wait on is known"}},
	}
	if recent > 0 {
		f.Severity = content.Warning
	} else {
		f.Summary += fmt.Sprintf(" They are older than %s before the capture.", ago(time.Duration(c.Thresholds.RecentErrorS)*time.Second))
	}
	return f, true
}

// failedWrites are the traced writes and syncs to files on dev that
// failed, one evidence line per target and file, with the first failing
// line.
func failedWrites(c *window.Window, dev string) []content.Evidence {
	var out []content.Evidence
	for _, tv := range c.Targets {
		if tv.Summary == nil || tv.Target.Process == nil {
			continue
		}
		for _, fio := range tv.Summary.Files {
			if len(fio.Failed) == 0 {
				continue
			}
			if pl, ok := c.Place(tv, fio.Path); !ok || pl.Device != dev {
				continue
			}
			var errs []string
			for _, e := range sortedKeys(fio.Failed) {
				errs = append(errs, fmt.Sprintf("%d with %s", fio.Failed[e], e))
			}
			out = append(out, content.Evidence{Member: tv.Target.Info.Strace.Member,
				What:  fmt.Sprintf("%s's writes to %s failed: %s (strace)", window.Name(tv.Target.Process), fio.Path, prose.JoinAnd(errs)),
				Lines: exampleLines(tv.Target, fio.FirstFailLine, 1)})
		}
	}
	return out
}

// lostWrites tells the lost page writes apart (fs/buffer.c): a "lost sync
// page write" failed a synchronous write, and its caller (an O_SYNC or
// fsync writer, the journal, a superblock update) got EIO; a "lost async
// page write" failed writeback, and the kernel dropped the data without
// telling the writer, who learns of it only from a later fsync. Other
// lost-data records (ext4's failed writeback) are async too.
func lostWrites(evs []model.KernelEvent) string {
	var syncN, asyncN int
	for _, e := range evs {
		if e.Kind != model.LostWrite {
			continue
		}
		if strings.Contains(e.Record.Text, "lost sync page write") {
			syncN++
		} else {
			asyncN++
		}
	}
	var parts []string
	if syncN > 0 {
		parts = append(parts, fmt.Sprintf("%d of them lost sync page writes (a buffer the kernel wrote and waited for, such as the superblock or other filesystem metadata, failed)", syncN))
	}
	if asyncN > 0 {
		parts = append(parts, fmt.Sprintf("%d of them lost async page writes (writeback failed: the kernel dropped the data without telling the writer, who learns of it only from a later fsync)", asyncN))
	}
	if len(parts) == 0 {
		return ""
	}
	return prose.JoinAnd(parts)
}

// writtenAfter says what was written to dev after its first error during
// the capture, the edge of the data-loss window: the targets that kept
// writing files on it (their wchar grew after that tick). Their writes
// from then on failed, or sit in the page cache of a device that fails
// them.
func writtenAfter(c *window.Window, dev string, evs []model.KernelEvent) (string, []content.Evidence, bool) {
	var first *model.KernelEvent
	for i := range evs {
		e := &evs[i]
		if e.During && (e.Kind == model.IOError || e.Kind == model.LostWrite) && (first == nil || e.Offset < first.Offset) {
			first = e
		}
	}
	if first == nil {
		return "", nil, false
	}
	m := c.Model
	// The first tick at or after the error: what a target wrote from
	// there on was surely written after it.
	at := m.Manifest.Start.MonoNS + first.Offset.Nanoseconds()
	k := c.From
	for k < c.To && m.Ticks[k].Mono < at {
		k++
	}
	var who []string
	var ev []content.Evidence
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil || p.Kernel {
			continue
		}
		a, okA := m.PointAt(p, max(k, p.First))
		b, okB := m.PointAt(p, min(c.To, p.Last))
		if !okA || !okB || !a.HasIO || !b.HasIO || b.IO.WChar <= a.IO.WChar {
			continue
		}
		var files []string
		for _, path := range writtenFiles(tv) {
			if pl, ok := c.Place(tv, path); ok && pl.Device == dev {
				files = append(files, path)
			}
		}
		if len(files) == 0 {
			continue
		}
		who = append(who, fmt.Sprintf("%s (%s)", window.Name(p), strings.Join(files, ", ")))
		ev = append(ev, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: window.TicksRange(a.Tick, b.Tick),
			What: fmt.Sprintf("%s went on writing after the first error on %s (from tick %d): %s more in wchar, which counts only the bytes of write() calls that succeeded, wherever they went (a write refused with EIO or EROFS adds nothing); its files on %s: %s", window.Name(p), dev, a.Tick, prose.Bytes(float64(b.IO.WChar-a.IO.WChar)), dev, strings.Join(files, ", "))})
	}
	if len(who) == 0 {
		return "", nil, false
	}
	return fmt.Sprintf("The first error, %s, is the edge of the data-loss window: nothing written to %s after it reached the disk, and %s kept writing after it.", when(*first), dev, prose.JoinAnd(who)), ev, true
}

// failOverHow says whom to fail over or stop: the traced processes that
// write files on the device, by name, else "the workload".
func failOverHow(c *window.Window, dev string) string {
	var who []string
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil || p.Kernel {
			continue
		}
		for _, path := range writtenFiles(tv) {
			if pl, ok := c.Place(tv, path); ok && pl.Device == dev {
				who = append(who, fmt.Sprintf("%s (PID %d)", p.Comm, p.PID))
				break
			}
		}
	}
	if len(who) == 0 {
		return "Fail the workload over or stop it"
	}
	them := "it"
	if len(who) > 1 {
		them = "them"
	}
	return "Fail " + prose.JoinAnd(who) + " over to a healthy replica or stop " + them
}

// writtenFiles are the regular files a target wrote or synced (strace),
// else those it held open for writing.
func writtenFiles(tv *window.TargetView) []string {
	var out []string
	if tv.Summary != nil {
		for _, f := range tv.Summary.Files {
			if f.Kind == "file" && f.Writes+f.Syncs > 0 {
				out = append(out, f.Path)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, fd := range tv.Target.FDs {
		if fd.Info != nil && fd.Info.Flags.Writable() && strings.HasPrefix(fd.Path, "/") && !strings.HasPrefix(fd.Path, "/dev/") {
			out = append(out, fd.Path)
		}
	}
	return out
}

// checkFilesystem is the step after the device is replaced or repaired:
// its filesystem's own checker, on the device, in a command that pastes
// (fsck -f for the ext family, xfs_repair for XFS; btrfs check
// read-only first, its repair being a last resort).
func checkFilesystem(c *window.Window, dev string) content.Mitigation {
	m := content.Mitigation{Horizon: content.ShortTerm, Action: "Replace or repair the device, then check the filesystem",
		How: "Replace the disk (or volume); unmount, check the filesystem with its own checker, and mount it again read-write", Effect: "The filesystem is consistent and writable again"}
	var cmd string
	switch fs := c.Model.FSTypeOn(dev); fs {
	case "ext2", "ext3", "ext4":
		cmd = advice.Shell("fsck", "-f", "/dev/"+dev)
	case "xfs":
		cmd = advice.Shell("xfs_repair", "/dev/"+dev)
	case "btrfs":
		cmd = advice.Shell("btrfs", "check", "--readonly", "/dev/"+dev)
	}
	if cmd != "" {
		m.How = "Replace the disk (or volume); unmount, check the filesystem (" + cmd + "), and mount it again read-write"
		m.Commands = []string{cmd}
	}
	return m
}
