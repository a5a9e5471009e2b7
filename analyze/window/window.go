package window

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/collect/bundle"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/procfs"
)

// Window is what every rule reads: the model and the facts about the
// analysis window (its ticks, processes, devices, targets, who holds
// each device's time), computed once.
type Window struct {
	Model      *model.Model
	Thresholds Thresholds
	// From and To are the window's ticks; Seconds its length.
	From, To int
	Seconds  float64
	// Procs is every process's IO over the window, busiest first
	// (model.SortByActivity); ByPID indexes it.
	Procs []model.ProcIO
	ByPID map[int]*model.ProcIO
	// Devices is iostat -x over the window for every whole disk.
	Devices map[string]model.Iostat
	// UserDiskBytes is read_bytes+write_bytes summed over user
	// processes (kernel threads such as a loop device's worker write on
	// behalf of others and would count twice).
	UserDiskBytes, UserWriteBytes int64
	Targets                       []*TargetView
	// DeviceTimes is who holds each device's time, by device name;
	// DeviceTimesEstimated is true when the bundle has no block trace
	// and the figures come from the targets' files and sync counts.
	DeviceTimes          map[string]*model.DeviceTime
	DeviceTimesEstimated bool
	// apps caches Apps; shareCache appSharesOf.
	apps       map[int]*model.App
	shareCache map[string]*appShares
}

// TargetView is a target with its window IO and trace summary.
type TargetView struct {
	Target  *model.Target
	IO      *model.ProcIO
	Summary *model.TraceSummary
}

// New computes the window figures over the whole capture.
func New(m *model.Model, t Thresholds) *Window {
	return NewRange(m, t, 0, len(m.Ticks)-1)
}

// NewRange computes the window figures from tick from to tick to.
func NewRange(m *model.Model, t Thresholds, from, to int) *Window {
	c := &Window{Model: m, Thresholds: t, ByPID: map[int]*model.ProcIO{}, Devices: map[string]model.Iostat{}}
	if len(m.Ticks) < 2 || from < 0 || to >= len(m.Ticks) || to <= from {
		return c
	}
	c.From, c.To = from, to
	c.Seconds = m.Seconds(c.From, c.To)
	for _, p := range m.ProcessIO(c.From, c.To) {
		// The collector's own reads (and strace's) are not the node's IO.
		if !p.Proc.Collector {
			c.Procs = append(c.Procs, p)
		}
	}
	model.SortByActivity(c.Procs)
	for i := range c.Procs {
		p := &c.Procs[i]
		c.ByPID[p.Proc.PID] = p
		if !p.Proc.Kernel {
			c.UserDiskBytes += p.DiskBytes()
			c.UserWriteBytes += p.Delta.IO.WriteBytes
		}
	}
	all := m.DeviceIostat(c.From, c.To)
	for _, d := range m.WholeDisks() {
		if x, ok := all[d]; ok {
			c.Devices[d] = x
		}
	}
	for _, tg := range m.Targets {
		tv := &TargetView{Target: tg, Summary: tg.Summary()}
		if tg.Process != nil {
			tv.IO = c.ByPID[tg.Process.PID]
		}
		c.Targets = append(c.Targets, tv)
	}
	c.DeviceTimes, c.DeviceTimesEstimated = deviceTimes(c)
	return c
}

// HotFile is the file a target writes most to — the one place that picks
// it: the tree it scans when it is a scan (ScannedTree); else among the
// first three files of its trace that it wrote or synced, the first
// regular file; else the file it msyncs most through a shared mapping;
// else (no trace, or only pipes and sockets) the first regular file it
// has open for writing. "" when there is none.
func (c *Window) HotFile(tv *TargetView) string {
	if tv == nil {
		return ""
	}
	if tree := c.ScannedTree(tv); tree != "" {
		return tree
	}
	if tv.Summary != nil {
		for i, f := range tv.Summary.Files {
			if i == 3 || f.Writes+f.Syncs == 0 {
				break
			}
			if f.Kind == "file" {
				return f.Path
			}
		}
	}
	// A file written through a shared mapping and msynced: no write()
	// names it, its maps do.
	if mf := tv.Target.MsyncFiles(); len(mf) > 0 {
		return mf[0].Path
	}
	for _, fd := range tv.Target.FDs {
		if fd.Info != nil && fd.Info.Flags.Writable() && strings.HasPrefix(fd.Path, "/") && !strings.HasPrefix(fd.Path, "/dev/") {
			return fd.Path
		}
	}
	return ""
}

// ScannedTree is the tree a target lists directories of (getdents64)
// when it reads more from the disk than it writes: a scan, whose load is
// the tree it reads, not the output it writes. "" otherwise.
func (c *Window) ScannedTree(tv *TargetView) string {
	if tv == nil || tv.Summary == nil || len(tv.Summary.Listed) == 0 {
		return ""
	}
	p := c.ByPID[tv.Target.Info.PID]
	if p == nil || p.Delta.IO.ReadBytes <= p.Delta.IO.WriteBytes {
		return ""
	}
	return tv.Summary.ListedTree()
}

// Target returns the target view of a PID.
func (c *Window) Target(pid int) *TargetView {
	for _, t := range c.Targets {
		if t.Target.Info.PID == pid {
			return t
		}
	}
	return nil
}

// TickSpan names the window's ticks for evidence.
func (c *Window) TickSpan() string { return TicksRange(c.From, c.To) }

// PageSize is the host's page size (4096 where the manifest lacks it).
func (c *Window) PageSize() float64 {
	if ps := c.Model.Manifest.Host.PageSize; ps > 0 {
		return float64(ps)
	}
	return 4096
}

// VmstatDelta is how much a /proc/vmstat counter grew over the window,
// false when either end has no vmstat.
func (c *Window) VmstatDelta(key string) (int64, bool) {
	a, b := c.Model.Ticks[c.From].Vmstat, c.Model.Ticks[c.To].Vmstat
	if a == nil || b == nil {
		return 0, false
	}
	return int64(b[key]) - int64(a[key]), true
}

// TicksMembers names the tick members of the window, for citations.
func (c *Window) TicksMembers() string {
	return bundle.TickMember(c.From) + ".." + bundle.TickMember(c.To)
}

// Name is how a report names a process: PID, comm and container; for
// the children a process reaped unseen, whose they were.
func Name(p *model.Process) string {
	s := fmt.Sprintf("PID %d (%s)", p.PID, p.Comm)
	if p.ReapedBy != 0 {
		s = fmt.Sprintf("the group of exited children of PID %d (%s)", p.ReapedBy, p.ReaperComm())
	}
	if p.Container != nil {
		s += " in container " + p.Container.Name
	}
	return s
}

// Cmdline is a process's command line for a report (already redacted).
func Cmdline(p *model.Process) string {
	if p.ReapedBy != 0 {
		return fmt.Sprintf("(processes PID %d started and reaped between two samples; the kernel added their IO to its counters)", p.ReapedBy)
	}
	if len(p.Cmdline) == 0 {
		return p.Comm
	}
	s := strings.Join(p.Cmdline, " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Placement is where a file's writes land: its mount as the process sees
// it, the overlay layer, and the device.
type Placement struct {
	Path    string
	Mount   procfs.Mount
	Overlay *procfs.Overlay
	// UpperPath is the file's path on the upper layer (overlay only).
	UpperPath string
	// HostMount is the host mount holding the data (the upper layer's
	// filesystem for an overlay).
	HostMount procfs.Mount
	Device    string
	// Backing is the file behind a loop device, and the device that
	// holds it.
	Backing, BackingDevice string
}

// Place resolves where writes to path by a target land; false when it
// cannot (no target, no path, no mount holds it).
func (c *Window) Place(tv *TargetView, path string) (*Placement, bool) {
	if tv == nil || path == "" {
		return nil, false
	}
	mounts := tv.Target.Mounts
	if len(mounts) == 0 {
		mounts = c.Model.Mounts
	}
	mt, ok := model.MountFor(mounts, path)
	if !ok {
		return nil, false
	}
	pl := &Placement{Path: path, Mount: mt, HostMount: mt}
	if ov, ok := mt.Overlay(); ok {
		pl.Overlay = &ov
		pl.UpperPath, _ = model.UpperPath(mt, path)
		if hm, ok := model.MountFor(c.Model.Mounts, ov.Upper); ok {
			pl.HostMount = hm
		}
	}
	pl.Device = c.Model.DiskName(procfs.Dev{Major: pl.HostMount.Major, Minor: pl.HostMount.Minor})
	if b := c.Model.Blocks[pl.Device]; b != nil && b.BackingFile != "" {
		pl.Backing = b.BackingFile
		if bm, ok := model.MountFor(c.Model.Mounts, b.BackingFile); ok {
			pl.BackingDevice = c.Model.DiskName(procfs.Dev{Major: bm.Major, Minor: bm.Minor})
		}
	}
	return pl, true
}

// memoryFS are filesystems held in memory: a write there reaches no
// device, and a sync waits for none.
var memoryFS = map[string]bool{"tmpfs": true, "ramfs": true, "hugetlbfs": true}

// InMemory reports whether writes to path by a target land in a
// filesystem held in memory (a tmpfs volume), and which.
func (c *Window) InMemory(tv *TargetView, path string) (string, bool) {
	pl, ok := c.Place(tv, path)
	if !ok || pl.Overlay != nil {
		return "", false
	}
	return pl.Mount.FSType, memoryFS[pl.Mount.FSType]
}

// DescribeDevice says a device and, for a loop device, what backs it.
func (pl *Placement) DescribeDevice() string {
	s := pl.Device
	if pl.Backing != "" {
		s += fmt.Sprintf(" (a loop device backed by %s", pl.Backing)
		if pl.BackingDevice != "" {
			s += " on " + pl.BackingDevice
		}
		s += ")"
	}
	return s
}

// Rates under strace are the traced process's rates slowed down by
// ptrace (by up to two orders of magnitude for a syscall-heavy writer):
// a report quotes the untraced /proc rates, and the trace only for sizes,
// files, latencies and the shares between files.

// WriteRate is how many write calls a second a target made to f over the
// window, untraced: its share of the trace's writes applied to the
// process's write syscalls (syscw) in /proc. Without /proc figures it is
// the traced rate.
func (c *Window) WriteRate(tv *TargetView, f *model.FileIO) float64 {
	traced := float64(f.Writes) / tv.Target.Info.Strace.TracedSeconds
	if tv.IO == nil || tv.IO.Seconds <= 0 || tv.IO.Delta.IO.SyscW == 0 {
		return traced
	}
	var all int
	for _, g := range tv.Summary.Files {
		all += g.Writes
	}
	if all == 0 {
		return traced
	}
	return float64(f.Writes) / float64(all) * float64(tv.IO.Delta.IO.SyscW) / tv.IO.Seconds
}

// SyncRate is how many syncs a second a target made on f, untraced: the
// traced rate scaled as its writes were (there is no /proc counter of
// fsync calls).
func (c *Window) SyncRate(tv *TargetView, f *model.FileIO) float64 {
	secs := tv.Target.Info.Strace.TracedSeconds
	traced := float64(f.Syncs) / secs
	if f.Writes == 0 {
		return traced
	}
	return traced * c.WriteRate(tv, f) / (float64(f.Writes) / secs)
}

// CgroupName names a sampled cgroup in prose, by its path within its
// hierarchy (prose.Cgroup); controller is the v1 hierarchy it was read
// from ("blkio", "memory") when it is not v2.
func (c *Window) CgroupName(cg *model.Cgroup, controller string) string {
	m := c.Model
	if cg.V2 {
		return prose.Cgroup("", relCgroup(cg.Path, m.CgroupV2Root))
	}
	root := m.CgroupV1Root
	if controller == "memory" && m.CgroupV1MemoryRoot != "" {
		root = m.CgroupV1MemoryRoot
	}
	return prose.Cgroup(controller, relCgroup(cg.Path, root))
}

// relCgroup is a cgroup's path within its hierarchy mounted at root.
func relCgroup(path, root string) string {
	if root == "" || !strings.HasPrefix(path, root) {
		return path
	}
	if rel := strings.TrimPrefix(path, root); rel != "" {
		return rel
	}
	return "/"
}
