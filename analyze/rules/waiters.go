package rules

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// Who waited, told apart from who is busy (DESIGN.md principle 7): a
// kernel thread in D state (jbd2 committing, a flusher, a loop worker) is
// doing some application's IO, not waiting as its victim; an application
// that waits only for its own IO inflicts the wait on itself.

// loadHolder is the application process whose IO loads the node: the
// user task holding the largest share of the busiest device's time, else
// the process that moved the most disk bytes; nil when there is none.
func loadHolder(c *window.Window) *model.Process {
	if dev, _, ok := c.BusiestDevice(); ok {
		for _, s := range c.Shares(dev) {
			if !s.Kernel && s.Process != nil && s.NS() > 0 {
				return s.Process
			}
		}
	}
	for _, p := range c.Procs {
		if !p.Proc.Kernel && p.Delta.IO.ReadBytes+p.Delta.IO.WriteBytes > 0 {
			return p.Proc
		}
	}
	return nil
}

// appWaited reports whether an application process was seen waiting for IO
// over the window: in D state in two ticks or more, with block-IO delay
// over the stall threshold, or with its own requests taking longer than
// the await threshold on a hurting device (the block trace sees the wait
// of a process whose waiting thread the samples missed — io-victims'
// test). Kernel threads never count.
func appWaited(c *window.Window, p *model.ProcIO) bool {
	if p.Proc.Kernel {
		return false
	}
	if p.DStates >= 2 || p.IOPercent(c.Model.Manifest.Host.UserHZ) >= c.Thresholds.IODelayPct {
		return true
	}
	for _, dev := range c.Hurting() {
		if dt := c.DeviceTimes[dev]; dt != nil {
			if s := dt.Find(p.Proc.PID); s != nil && s.Latency.Count > 0 && s.Latency.MeanMS() >= c.Thresholds.AwaitMS {
				return true
			}
		}
	}
	return false
}

// otherWaiters are the application processes, not of holder's
// application, that waited for IO, and the v2 cgroups other than
// holder's (and its ancestors) with IO pressure over the stall threshold.
// None means the waits were self-inflicted.
func otherWaiters(c *window.Window, holder *model.Process) (procs []*model.ProcIO, cgroups []string) {
	for i := range c.Procs {
		p := &c.Procs[i]
		if appWaited(c, p) && (holder == nil || !c.SameApp(p.Proc.PID, holder.PID)) {
			procs = append(procs, p)
		}
	}
	m := c.Model
	if m.CgroupV2Root == "" {
		return procs, nil
	}
	own := ""
	if holder != nil {
		own, _, _, _ = m.CgroupIOPressure(holder, c.From, c.To)
	}
	for dir, cg := range m.Cgroups {
		rel, ok := strings.CutPrefix(dir, m.CgroupV2Root)
		if !ok || !cg.V2 && len(cg.Pressure) == 0 || rel == "" || rel == "/" {
			continue
		}
		if own != "" && (rel == own || strings.HasPrefix(own, rel+"/") || strings.HasPrefix(rel, own+"/")) {
			continue
		}
		if some, _, ok := cg.IOPressure(m, c.From, c.To); ok && some >= c.Thresholds.PSISomePct {
			cgroups = append(cgroups, filepath.Clean(rel))
		}
	}
	sort.Strings(cgroups)
	return procs, cgroups
}

// kernelBusy names the kernel threads seen in D state in most ticks:
// they count in the node's IO pressure while they do others' IO.
func kernelBusy(c *window.Window) string {
	var parts []string
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.Kernel && p.Samples > 0 && p.DStates*2 >= p.Samples {
			parts = append(parts, fmt.Sprintf("%s (%d of %d ticks)", p.Proc.Comm, p.DStates, p.Samples))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// cgroupPressureEvidence quotes the io.pressure of a process's own cgroup
// beside the node's; false when the bundle has none for it.
func cgroupPressureEvidence(c *window.Window, p *model.Process, nodeSome float64) (content.Evidence, string, float64, bool) {
	path, some, full, ok := c.Model.CgroupIOPressure(p, c.From, c.To)
	if !ok {
		return content.Evidence{}, "", 0, false
	}
	return content.Evidence{Member: c.TicksMembers() + " (cgroup io.pressure)", Ticks: c.TickSpan(),
		What:    fmt.Sprintf("%s, where %s runs: io.pressure some %.1f %%, full %.1f %% of the time (the node's some: %.1f %%)", prose.Cgroup("", path), window.Name(p), some, full, nodeSome),
		Figures: map[string]float64{FigCgroupSomePct: some}}, path, some, true
}
