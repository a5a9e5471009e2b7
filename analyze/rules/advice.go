package rules

import (
	"fmt"
	"path"
	"slices"

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

// ionice returns how to lower a process's IO priority, or "" and why that
// cannot work here.
func ionice(c *window.Window, p *model.Process) (string, string) {
	if k := p.RuntimeKind(); k != "" {
		return "", fmt.Sprintf("%s is a container runtime component (%s): a lower IO priority would stall the container on its stdout pipe", window.Name(p), k)
	}
	dev, mode := writeMode(c, p)
	if mode == "buffered" {
		return "", fmt.Sprintf("%s's writes are buffered: writeback kworkers write its pages later and do not carry its IO priority", window.Name(p))
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

// writeMode is the device a target's hot file lands on and how it writes
// there: "sync" (O_SYNC, O_DSYNC), "direct" (O_DIRECT), "buffered", or ""
// when the process was not a target.
func writeMode(c *window.Window, p *model.Process) (string, string) {
	tv := c.Target(p.PID)
	hot := c.HotFile(tv)
	if hot == "" {
		return "", ""
	}
	dev := ""
	if pl, ok := c.Place(tv, hot); ok {
		dev = pl.Device
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

// ioLimit returns how to cap a process's cgroup's IO on dev, or "" and
// why that cannot work here.
func ioLimit(c *window.Window, p *model.Process, dev string) (string, string) {
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
	devNum := "MAJ:MIN"
	if b := c.Model.Blocks[dev]; b != nil && dev != "" {
		devNum = b.Dev.String()
	}
	_, mode := writeMode(c, p)
	switch {
	case c.Model.CgroupV1Root != "" && hasV1:
		// The io controller is bound to the v1 blkio hierarchy.
		if v1 == "/" {
			return "", fmt.Sprintf("%s is in the root blkio cgroup, which takes no limits", window.Name(p))
		}
		if mode == "buffered" {
			return "", fmt.Sprintf("the io controller is on cgroup v1 here, whose limits hold only for direct IO, and %s's writes are buffered", window.Name(p))
		}
		return fmt.Sprintf("echo \"%s BYTES_PER_S\" > %s/blkio.throttle.write_bps_device (cgroup v1: holds for direct and synchronous IO only, not for buffered writeback)", devNum, path.Join(c.Model.CgroupV1Root, v1)), ""
	case c.Model.CgroupV2Root != "" && hasV2 && c.Model.CgroupV1Root == "":
		if v2 == "/" {
			return "", fmt.Sprintf("%s is in the root cgroup, which io.max cannot limit", window.Name(p))
		}
		return fmt.Sprintf("echo \"%s wbps=BYTES_PER_S\" > %s/io.max", devNum, path.Join(c.Model.CgroupV2Root, v2)), ""
	}
	return "", "no cgroup io controller holds this process on this node"
}

// slowDown is the immediate mitigation for a process whose IO must yield:
// a lower IO priority where that works, else a cgroup limit where that
// works, else none — with why, so that the report can say what was ruled
// out.
func slowDown(c *window.Window, p *model.Process, dev string) (content.Mitigation, bool) {
	if how, _ := ionice(c, p); how != "" {
		return content.Mitigation{Horizon: content.Immediate, Action: "Lower the IO priority of " + window.Name(p), How: how, Effect: "Other IO is served first"}, true
	}
	if how, _ := ioLimit(c, p, dev); how != "" {
		return content.Mitigation{Horizon: content.Immediate, Action: "Cap the IO of " + window.Name(p) + "'s cgroup", How: how, Effect: "Its share of the device is bounded; the rest of the node recovers"}, true
	}
	return content.Mitigation{}, false
}

// ruledOut records, as evidence, the levers this node's facts rule out
// for a process, so that a reader sees why a familiar mitigation is
// missing.
func ruledOut(c *window.Window, f *content.Finding, p *model.Process, dev string) {
	var why []string
	if how, w := ionice(c, p); how == "" && w != "" {
		why = append(why, "ionice: "+w)
	}
	if how, w := ioLimit(c, p, dev); how == "" && w != "" {
		why = append(why, "a cgroup IO limit: "+w)
	}
	for _, w := range why {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.HostMember + " and " + bundle.ProcTableMember, What: "not advised, " + w})
	}
}

// ownVolume reports whether path is already on a filesystem of its own,
// not the one that holds the node's root.
func ownVolume(c *window.Window, path string) bool {
	mt, ok := model.MountFor(c.Model.Mounts, path)
	root, rok := model.MountFor(c.Model.Mounts, "/")
	return ok && rok && mt.MountPoint != "/" && (mt.Major != root.Major || mt.Minor != root.Minor)
}

// containerBlockIO is the disk bytes a container's own processes moved:
// zero for one whose output goes through its runtime's pipe.
func containerBlockIO(c *window.Window, name string) int64 {
	var sum int64
	for _, p := range c.Procs {
		if p.Proc.Container != nil && p.Proc.Container.Name == name && p.Proc.RuntimeKind() == "" {
			sum += p.DiskBytes()
		}
	}
	return sum
}

// bufferKey keys the step that makes a process write in fewer, larger
// calls, whichever finding asks for it (small writes, amplification, CPU
// cost, volume): one row in the report.
// A runtime component's writes are a container's output: the step is
// then the container's logging (container-log-flood's row).
func bufferKey(p *model.Process) string {
	if p.RuntimeKind() != "" && p.Container != nil {
		return logBufferKey(p.Container.Name)
	}
	return fmt.Sprintf("buffer-writes:%d", p.PID)
}

// logBufferKey keys the step that makes a container log in fewer, larger
// writes.
func logBufferKey(container string) string { return "buffer-log:" + container }

// syncLessKey keys the step that makes a process sync less often.
func syncLessKey(p *model.Process) string { return fmt.Sprintf("sync-less:%d", p.PID) }

// bulkWriterKey is dirty-throttling's action for the bulk buffered writer
// (keyed by its text): a dominant buffered writer's own advice is the
// same step.
const bulkWriterKey = "Slow the bulk buffered writer"
