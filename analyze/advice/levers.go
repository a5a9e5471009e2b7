package advice

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// Advice that works on this node (DESIGN.md, principle 8). Lowering a
// process's IO priority and capping its cgroup's IO are the two levers
// most often suggested and most often useless: each is checked here
// against the bundle's facts — the device's IO scheduler, how the process
// writes, where it sits in the cgroup hierarchy and which cgroup version
// holds the io controller — and said only where it can work.

// IONice returns how to lower a process's IO priority, or "" and why that
// cannot work here.
func IONice(c *window.Window, p *model.Process) (string, string) {
	// Buffered writes first: an IO priority never reaches them, whoever
	// the writer is — unless most of its device time is requests it
	// issues itself (its reads, direct or synchronous writes), which go
	// through the IO scheduler with its priority.
	dev, mode := WriteMode(c, p)
	if mode == "buffered" && !OwnRequestsDominate(c, p, dev) {
		return "", fmt.Sprintf("%s's writes are buffered: writeback kworkers write its pages later and do not carry its IO priority", window.Name(p))
	}
	if k := p.RuntimeKind(); k != "" {
		return "", fmt.Sprintf("%s is a container runtime component (%s): a lower IO priority would stall the container on its stdout pipe", window.Name(p), k)
	}
	if dev == "" {
		return "", fmt.Sprintf("the device %s writes to is not known (it was not traced), so whether its scheduler honours IO priorities is not either", window.Name(p))
	}
	sched := ""
	if b := c.Model.Blocks[dev]; b != nil {
		sched = b.Scheduler
	}
	switch sched {
	case "bfq", "mq-deadline":
		return fmt.Sprintf("ionice -c3 -p %d (idle class, honoured by the %s scheduler of %s)", p.PID, sched, dev), ""
	case "":
		return "", fmt.Sprintf("the IO scheduler of %s is not in the bundle", dev)
	}
	return "", fmt.Sprintf("%s's IO scheduler is %s, which ignores IO priorities (only bfq and mq-deadline honour them)", dev, sched)
}

// OwnRequestsDominate reports whether, of the time p holds on dev (the
// block trace's shares), more is its own requests — reads, direct and
// synchronous writes, which it issues and which carry its IO priority —
// than the writeback, journal commits and flushes done for it later by
// kernel threads, which do not. False without a traced share.
func OwnRequestsDominate(c *window.Window, p *model.Process, dev string) bool {
	dt := c.DeviceTimes[dev]
	if dt == nil || c.DeviceTimesEstimated {
		return false
	}
	for _, s := range dt.Shares {
		if s.Task.PID == p.PID || s.Process == p {
			return s.DirectNS > s.WritebackNS+s.JournalNS+s.FlushNS
		}
	}
	return false
}

// WriteMode is the device a target's hot file lands on and how it writes
// there: "sync" (O_SYNC, O_DSYNC), "direct" (O_DIRECT), "buffered",
// "reads" for a scan (the tree it reads is its load), or "" when the
// process was not a target.
func WriteMode(c *window.Window, p *model.Process) (string, string) {
	tv := c.Target(p.PID)
	hot := c.HotFile(tv)
	if hot == "" {
		return "", ""
	}
	dev := ""
	if pl, ok := c.Place(tv, hot); ok {
		dev = pl.Device
	}
	if hot == c.ScannedTree(tv) {
		return dev, "reads" // its own reads, which carry its IO priority
	}
	for _, fd := range tv.Target.FDs {
		if fd.Path != hot || fd.Info == nil {
			continue
		}
		switch {
		case fd.Info.Flags.Direct(c.Model.Manifest.Host.Arch):
			return dev, "direct"
		case fd.Info.Flags.Sync() || fd.Info.Flags.DSync():
			return dev, "sync"
		}
	}
	if tv.Summary != nil {
		for _, f := range tv.Summary.Files {
			if f.Path == hot && f.SyncAfterWrite > 0 {
				return dev, "sync"
			}
		}
	}
	return dev, "buffered"
}

// IOLimit returns how to cap a process's cgroup's IO on dev, or "" and
// why that cannot work here.
func IOLimit(c *window.Window, p *model.Process, dev string) (string, string) {
	var v2, v1 string
	hasV2, hasV1 := false, false
	for _, cg := range p.Cgroups {
		switch {
		case cg.HierarchyID == 0:
			v2, hasV2 = cg.Path, true
		case slices.Contains(cg.Controllers, "blkio"):
			v1, hasV1 = cg.Path, true
		}
	}
	_, mode := WriteMode(c, p)
	var dir string
	switch {
	case c.Model.CgroupV1Root != "" && hasV1:
		// The io controller is bound to the v1 blkio hierarchy.
		if v1 == "/" {
			return "", fmt.Sprintf("%s is in the root blkio cgroup: a limit there would cap every process on the host", window.Name(p))
		}
		if mode == "buffered" {
			return "", fmt.Sprintf("the io controller is on cgroup v1 here, whose limits hold only for direct IO, and %s's writes are buffered", window.Name(p))
		}
		dir = path.Join(c.Model.CgroupV1Root, v1)
	case c.Model.CgroupV2Root != "" && hasV2 && c.Model.CgroupV1Root == "":
		if v2 == "/" {
			return "", fmt.Sprintf("%s is in the root cgroup, which io.max cannot limit", window.Name(p))
		}
		dir = path.Join(c.Model.CgroupV2Root, v2)
	default:
		return "", "no cgroup io controller holds this process on this node"
	}
	b := c.Model.Blocks[dev]
	if b == nil || dev == "" {
		return "", fmt.Sprintf("the device %s writes to is not known, so neither is the limit's device number", window.Name(p))
	}
	cp := CapFor(c, p, mode)
	if cp.value == 0 {
		return "", fmt.Sprintf("%s's write rate is not in the bundle, so no cap below it can be given", window.Name(p))
	}
	if held := LimitedAbove(c, dir); held != "" {
		return "", fmt.Sprintf("its cgroup %s already has an IO limit (see cgroup-throttle): that limit is the incident, a lower one would deepen it", held)
	}
	if strings.HasPrefix(dir, c.Model.CgroupV2Root+"/") && c.Model.CgroupV1Root == "" {
		return fmt.Sprintf("echo \"%s %s=%d\" > %s/io.max (%s)", b.Dev, cp.v2Key, cp.value, dir, cp.why), ""
	}
	return fmt.Sprintf("echo \"%s %d\" > %s/blkio.throttle.%s (%s; cgroup v1: holds for direct and synchronous IO only, not for buffered writeback)", b.Dev, cp.value, dir, cp.v1File, cp.why), ""
}

// ioCap is a cap in the unit that fits a process's writes: IOPS for
// synchronous writes (each is a request or more, whatever its size),
// bytes a second for bulk and direct ones.
type ioCap struct {
	v1File, v2Key string
	value         int64
	why           string
}

// CapFor is a cap at half the rate the process writes now, in its unit;
// value 0 when the bundle holds no rate.
func CapFor(c *window.Window, p *model.Process, mode string) ioCap {
	var pio *model.ProcIO
	for i := range c.Procs {
		if c.Procs[i].Proc == p {
			pio = &c.Procs[i]
		}
	}
	if pio == nil || pio.Seconds <= 0 {
		return ioCap{}
	}
	if mode == "sync" {
		rate := float64(pio.Delta.IO.SyscW) / pio.Seconds
		return ioCap{v1File: "write_iops_device", v2Key: "wiops", value: int64(max(rate/2, 1)),
			why: fmt.Sprintf("half the %.0f synchronous writes a second it makes now: each is a device request or more, whatever its size", rate)}
	}
	rate := float64(pio.Delta.IO.WriteBytes) / pio.Seconds
	v := int64(rate / 2)
	if v >= 1<<20 {
		v = v >> 20 << 20
	}
	if v <= 0 {
		return ioCap{}
	}
	return ioCap{v1File: "write_bps_device", v2Key: "wbps", value: v,
		why: fmt.Sprintf("%s/s, half the %s/s it writes now", prose.Bytes(float64(v)), prose.Bytes(rate))}
}

// LimitedAbove names the cgroup, dir or one above it, that already has an
// IO limit, "" when none does.
func LimitedAbove(c *window.Window, dir string) string {
	for d := dir; d != "/" && d != "." && d != ""; d = path.Dir(d) {
		if cg := c.Model.Cgroups[d]; cg != nil && (len(cg.IOMax) > 0 || len(cg.V1Limits) > 0) {
			return d
		}
	}
	return ""
}

// SlowDown is the immediate mitigation for a process whose IO must yield:
// a lower IO priority where that works, else a cgroup limit where that
// works, else none — with why, so that the report can say what was ruled
// out.
func SlowDown(c *window.Window, p *model.Process, dev string) (content.Mitigation, bool) {
	if Copes(c, dev) != "" {
		return content.Mitigation{}, false
	}
	effect := "Its share of the device is bounded; the rest of the node recovers"
	if _, mode := WriteMode(c, p); mode == "sync" {
		// A synchronous writer waits for each write: slowed at the
		// device, it is slowed itself.
		effect = "The rest of the node recovers, but " + window.Name(p) + " waits for each of its synchronous writes: where it writes in its request path (a log line per request) the service slows with it. A stopgap until its writes are buffered"
	}
	if how, _ := IONice(c, p); how != "" {
		return content.Mitigation{Horizon: content.Immediate, Action: "Lower the IO priority of " + window.Name(p), How: how, Effect: strings.Replace(effect, "Its share of the device is bounded", "Other IO is served first", 1)}, true
	}
	if how, _ := IOLimit(c, p, dev); how != "" {
		return content.Mitigation{Horizon: content.Immediate, Action: "Cap the IO of " + window.Name(p) + "'s cgroup", How: how, Effect: effect}, true
	}
	return content.Mitigation{}, false
}

// Copes says why dev needs no process slowed on it: it is not saturated
// (or not known); "" when it is.
func Copes(c *window.Window, dev string) string {
	x, ok := c.Devices[dev]
	switch {
	case dev == "" || !ok:
		return "the device it writes to is not known"
	case !c.IsSaturated(dev, x):
		// Beneath a loop, dm or md device its requests, and a loop
		// device's flushes as fsyncs of its backing file, reach the
		// devices below: slowing the writer relieves those.
		var below []string
		for _, l := range c.Model.Lowers(dev) {
			lx, ok := c.Devices[l]
			if ok && c.IsSaturated(l, lx) {
				return ""
			}
			if ok {
				below = append(below, fmt.Sprintf("%s beneath it (%%util %.0f, await %.1f ms)", l, lx.Util, lx.Await))
			}
		}
		also := ""
		if len(below) > 0 {
			also = ", and so does " + prose.JoinAnd(below)
		}
		return fmt.Sprintf("%s copes (%%util %.0f, await %.1f ms, not saturated)%s: slowing it would relieve nothing", dev, x.Util, x.Await, also)
	}
	return ""
}

// RuledOut records, as evidence, the levers this node's facts rule out
// for a process, so that a reader sees why a familiar mitigation is
// missing.
func RuledOut(c *window.Window, f *content.Finding, p *model.Process, dev string) {
	var why []string
	if w := Copes(c, dev); w != "" && dev != "" {
		why = append(why, "slowing it: "+w)
	}
	if how, w := IONice(c, p); how == "" && w != "" {
		why = append(why, "ionice: "+w)
	}
	if how, w := IOLimit(c, p, dev); how == "" && w != "" {
		why = append(why, "a cgroup IO limit: "+w)
	}
	for _, w := range why {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.HostMember + " and " + bundle.ProcTableMember, What: "not advised, " + w})
	}
}

// OwnVolume reports whether path is already on a filesystem of its own,
// not the one that holds the node's root.
func OwnVolume(c *window.Window, path string) bool {
	mt, ok := model.MountFor(c.Model.Mounts, path)
	root, rok := model.MountFor(c.Model.Mounts, "/")
	return ok && rok && mt.MountPoint != "/" && (mt.Major != root.Major || mt.Minor != root.Minor)
}

// ContainerBlockIO is the disk bytes a container's own processes moved:
// zero for one whose output goes through its runtime's pipe.
func ContainerBlockIO(c *window.Window, name string) int64 {
	var sum int64
	for _, p := range c.Procs {
		if p.Proc.Container != nil && p.Proc.Container.Name == name && p.Proc.RuntimeKind() == "" {
			sum += p.DiskBytes()
		}
	}
	return sum
}

// BufferKey keys the step that makes a process write in fewer, larger
// calls, whichever finding asks for it (small writes, amplification, CPU
// cost, volume): one row in the report.
// A runtime component's writes are a container's output: the step is
// then the container's logging (container-log-flood's row).
func BufferKey(p *model.Process) string {
	if p.RuntimeKind() != "" {
		// A runtime component writes a container's log: buffering that
		// log is one step, whichever finding asks for it.
		if c := p.Serves(); c != nil {
			return LogBufferKey(c.Name)
		}
		if p.Container != nil {
			return LogBufferKey(p.Container.Name)
		}
	}
	if p.Container != nil && p.Container.Name != "" {
		// A process in a container: its writes are the container's, one
		// step with the container's log (the subject is the container).
		return LogBufferKey(p.Container.Name)
	}
	return fmt.Sprintf("buffer-writes:%d", p.PID)
}

// LogBufferKey keys the step that makes a container write (its log, or
// any file of its processes) in fewer, larger writes.
func LogBufferKey(container string) string { return "buffer-writes:container " + container }

// SyncLessKey keys the step that makes a process sync less often.
func SyncLessKey(p *model.Process) string { return fmt.Sprintf("sync-less:%d", p.PID) }

// BulkWriterKey keys dirty-throttling's action for the bulk buffered
// writer: a dominant buffered writer's own advice is the same step, one
// row of the report.
const BulkWriterKey = "slow-bulk-writer"

// LogKind tells, from a file's path, what kind of log it is: "wal" for a
// log whose records must be durable one by one (a database's WAL or redo
// log, a binlog, an append-only file, a raft log, a journal), "log" for a
// record log (access or application log: a line lost in a crash is a
// line), "" for neither.
func LogKind(p string) string {
	l := strings.ToLower(p)
	base := path.Base(l)
	for _, w := range []string{"wal", "xlog", "redo", "binlog", "bin-log", "appendonly", ".aof", "raft", "commitlog", "journal"} {
		if strings.Contains(l, w) {
			return "wal"
		}
	}
	if strings.HasSuffix(base, ".log") || strings.Contains(base, ".log.") || strings.Contains(l, "/log/") || strings.Contains(l, "/logs/") {
		return "log"
	}
	return ""
}

// Runs reports whether the bundle shows p running prog: its comm, or its
// command line's program (nginx's "nginx: worker process" title
// included). Advice names a program only where the bundle shows it, never
// from a file's path.
func Runs(p *model.Process, prog string) bool {
	if p.Comm == prog {
		return true
	}
	if len(p.Cmdline) == 0 {
		return false
	}
	first, _, _ := strings.Cut(p.Cmdline[0], " ")
	return path.Base(strings.TrimSuffix(first, ":")) == prog
}

// ContainerRuns reports whether a process of the named container runs
// prog (Runs).
func ContainerRuns(c *window.Window, container, prog string) bool {
	for _, p := range c.Model.Procs {
		if p.Container != nil && p.Container.Name == container && p.Serves() == nil && Runs(p, prog) {
			return true
		}
	}
	return false
}

// BufferHow is how to buffer writes to a file, in the terms of its kind:
// nginx's directive only where the bundle shows nginx writing it, group
// commit for a WAL.
func BufferHow(p *model.Process, file string) string {
	switch {
	case LogKind(file) == "wal":
		return "Gather the records of concurrent commits and write them together (group commit), 64 KiB or more per write, syncing once per group"
	case Runs(p, "nginx"):
		return "Write through a user-space buffer of 64 KiB and flush on size or time: for nginx, access_log " + file + " main buffer=64k flush=5s"
	}
	return "Write through a user-space buffer of 64 KiB or more and flush on size or time (stdio setvbuf, a buffered log handler), e.g. every 5 s"
}

// BufferEffect is what buffering a file's small writes gains: for a WAL,
// whose records cannot wait for a timer, only what grouping concurrent
// commits gives; for any other file, bufferGain.
func BufferEffect(file string, rate, avg float64) string {
	if LogKind(file) == "wal" {
		return "Fewer, larger writes and syncs when commits arrive together; a record is never held back for a timer"
	}
	return BufferGain(rate, avg)
}

// BufferGain says what a 64 KiB buffer flushed at least every 5 s saves
// at rate calls a second of avg bytes: the buffer fills (rate*avg/64 KiB
// writes a second) or the timer fires (one every 5 s), whichever comes
// first; a slow writer gains what the flush interval allows, not what
// the buffer size would.
func BufferGain(rate, avg float64) string {
	const buf, flush = 65536.0, 5.0
	if rate <= 0 || avg <= 0 {
		return "Fewer, larger write() calls for the same bytes"
	}
	after := max(rate*avg/buf, 1/flush)
	if after >= rate {
		return "Its writes are already as large as a buffer would make them"
	}
	return fmt.Sprintf("About %.0f times fewer write() calls for the same bytes (%s a second instead of %.0f: at %s/s a 64 KiB buffer flushed at least every 5 s writes %s)",
		rate/after, PerSecond(after), rate, prose.Bytes(rate*avg), FlushWhen(rate*avg, buf, flush))
}

func PerSecond(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// FlushWhen says what triggers a buffer's writes: the timer or its size.
func FlushWhen(bytesPerSec, buf, flush float64) string {
	if bytesPerSec*flush < buf {
		return fmt.Sprintf("once per %.0f s, when the timer fires", flush)
	}
	if every := buf / bytesPerSec; every < 1 {
		return fmt.Sprintf("each time it fills, every %.1f ms", every*1000)
	}
	return fmt.Sprintf("each time it fills, every %.1f s", buf/bytesPerSec)
}

// ProtectLatency is how latency-sensitive services are shielded from a
// neighbour's IO on dev: cgroup v2's io.latency where the io controller
// is on v2; on v1 no controller protects latency (blkio.weight needs BFQ,
// and the throttle caps only the neighbour), so their own device. Where
// the waiters sleep for journal commits, no IO controller helps: a
// filesystem's journal is one, committed for everyone, so only a
// filesystem of their own does — said in that filesystem's words (the
// XFS log, the ext4 journal), and only then.
func ProtectLatency(c *window.Window, dev string, journalWaits bool) string {
	own := "their own filesystem on their own device"
	switch {
	case journalWaits:
		j := model.JournalOf(c.Model.FSTypeOn(dev))
		return fmt.Sprintf("give them %s: %s is one per filesystem, and each %s carries everyone's syncs together, whatever their cgroup", own, j.Name, j.Commit)
	case c.Model.CgroupV2Root != "" && c.Model.CgroupV1Root == "":
		return "cgroup v2 io.latency for the critical services (io.weight needs the BFQ scheduler or io.cost), or give them " + own
	}
	return "the io controller is on cgroup v1 here, which has no latency protection: give them " + own
}

// IsolateKey keys the step that keeps latency-sensitive data off a
// device shared with a heavy load: the device's saturation, the stalls
// and the victims it causes all call for it, one row of the report.
const IsolateKey = "isolate-latency"

// IsolateLatency is that step for dev, in the words of what loads it
// (reads for a scan, writes otherwise) and of how its waiters can be
// protected on this node (ProtectLatency).
func IsolateLatency(c *window.Window, dev string, journalWaits bool, h content.Horizon) content.Mitigation {
	load := "the load"
	if x, ok := c.Devices[dev]; ok {
		load = "the writes that load"
		if x.RkBPS > x.WkBPS {
			load = "the reads that load"
		}
	}
	on := dev
	if dev == "" {
		on = "the busy device"
	}
	return content.Mitigation{Horizon: h, Key: IsolateKey, Subject: dev,
		Action: "Keep latency-sensitive data off " + on,
		How:    "A separate volume for the data the waiting processes use, or the heavy load on a device of its own; to protect them where they share it, " + ProtectLatency(c, dev, journalWaits),
		Effect: "Their requests no longer queue behind " + load + " " + on}
}

// MoveHotDataKey keys the step that moves a writer's hot data off the
// device it loads: a saturated device's generic step and an overlay
// upper layer's volume are one row.
const MoveHotDataKey = "move-hot-data"

// Shell is a command line that pastes into a shell as it is: each
// argument quoted when it holds anything but letters, digits and
// /._-+=:,@ (a path with a space, a $).
func Shell(args ...string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r))
		}) >= 0 {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// Pasteable reports whether a path from the bundle can go into a command
// as it is: not elided ("…") and not masked by the collector's redaction.
func Pasteable(p string) bool {
	return p != "" && !strings.Contains(p, "…") && !strings.Contains(p, "REDACTED")
}

// InCommand is argv run where a target sees path: as it is when the
// target's mount of path is one of the host's, else inside the target's
// mount namespace (nsenter -t PID -m), so that a path only a container
// sees pastes on the node.
func InCommand(c *window.Window, tv *window.TargetView, path string, argv ...string) string {
	if pl, ok := c.Place(tv, path); ok && pl.Mount.ID != 0 && tv.Target.Process != nil {
		host := false
		for _, mt := range c.Model.Mounts {
			host = host || mt.ID == pl.Mount.ID
		}
		if !host {
			return Shell(append([]string{"nsenter", "-t", fmt.Sprint(tv.Target.Process.PID), "-m", "--"}, argv...)...)
		}
	}
	return Shell(argv...)
}
