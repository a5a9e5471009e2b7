package rules

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// swapIO reports paging to and from swap (vmstat pswpin, pswpout):
// memory pressure turned into disk IO. It names who swaps (the processes
// with the most major faults, their VmSwap when they are targets) and
// tells apart a memory cgroup at its limit on a node with room — the
// limit makes it swap, and the fix is to raise it or shrink the working
// set, by an amount the figures give — from a node short of memory. The
// swap areas are named with their device's IO, apart from file IO.
var swapIO = &Rule{ID: "swap-io",
	Role: content.Pressure, Check: checkSwapIO,
	Watch: []Watch{WatchSwap, AlertSwapIO},
}

// swapper is a process that took major faults over the window.
type swapper struct {
	p      *model.ProcIO
	perSec float64
	swapKB uint64 // VmSwap, for targets
	hasKB  bool
	cg     *model.Cgroup
}

func checkSwapIO(c *window.Window) []content.Finding {
	pin, ok1 := c.VmstatDelta("pswpin")
	pout, ok2 := c.VmstatDelta("pswpout")
	if !ok1 || !ok2 || c.Seconds <= 0 {
		return nil
	}
	in, out := float64(pin)/c.Seconds, float64(pout)/c.Seconds
	if in+out < c.Thresholds.SwapPagesPerSec {
		return nil
	}
	page := c.PageSize()
	mem := c.Model.Ticks[c.To].Meminfo
	f := content.Finding{
		ID: "swap-io", Severity: content.Warning, Confidence: content.High, Score: in + out,
		Title:   fmt.Sprintf("The node swaps: %.0f pages/s in, %.0f out", in, out),
		Summary: fmt.Sprintf("The kernel pages to and from swap: %s/s in and %s/s out, on top of the workload's own IO.", prose.Bytes(in*page), prose.Bytes(out*page)),
		Evidence: []content.Evidence{{Member: c.TicksMembers() + " (/proc/vmstat, /proc/meminfo)", Ticks: c.TickSpan(),
			What:    fmt.Sprintf("pswpin +%d, pswpout +%d pages over %.1f s; MemAvailable %d of %d kB, SwapFree %d of %d kB", pin, pout, c.Seconds, mem["MemAvailable"], mem["MemTotal"], mem["SwapFree"], mem["SwapTotal"]),
			Figures: map[string]float64{FigPswpinPerS: in, FigPswpoutPerS: out, FigMemAvailableKB: float64(mem["MemAvailable"])}}},
	}
	f.Evidence = append(f.Evidence, swapAreas(c)...)

	// Who swaps: the processes that waited for pages to be read back.
	var ss []swapper
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.Kernel || p.Delta.MajFlt == 0 || p.Seconds <= 0 {
			continue
		}
		s := swapper{p: p, perSec: float64(p.Delta.MajFlt) / p.Seconds, cg: c.Model.MemoryCgroup(p.Proc)}
		if tv := c.Target(p.Proc.PID); tv != nil && tv.Target.Status != nil {
			s.swapKB, s.hasKB = tv.Target.Status.VmSwapkB, true
		}
		ss = append(ss, s)
	}
	sort.Slice(ss, func(i, j int) bool {
		if ss[i].perSec != ss[j].perSec {
			return ss[i].perSec > ss[j].perSec
		}
		return ss[i].p.Proc.PID < ss[j].p.Proc.PID
	})
	var who []string
	for _, s := range ss[:min(3, len(ss))] {
		w := fmt.Sprintf("%s %.0f major faults/s", window.Name(s.p.Proc), s.perSec)
		if s.hasKB {
			w += fmt.Sprintf(", %s in swap (VmSwap)", prose.Bytes(float64(s.swapKB)*1024))
		}
		who = append(who, w)
	}
	if len(ss) == 0 {
		f.Summary += " No sampled process took major faults: the pages swapped out were not read back during the capture."
		f.Mitigations = nodeMemoryMitigations()
		return []content.Finding{f}
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/stat field 12, /proc/PID/status VmSwap for targets)", Ticks: c.TickSpan(),
		What: "who waits for pages read back (major faults: swap-ins, or pages of mapped files): " + strings.Join(who, "; ")})
	top := ss[0]
	f.Subjects = content.Subjects{PIDs: []int{top.p.Proc.PID}, Command: window.Cmdline(top.p.Proc)}
	if top.p.Proc.Container != nil {
		f.Subjects.Container = top.p.Proc.Container.Name
	}
	f.Summary += fmt.Sprintf(" %s waits for it most: %.0f major faults a second.", window.Name(top.p.Proc), top.perSec)

	// A cgroup at its limit on a node with room, or a node short of
	// memory.
	availKB, totalKB := float64(mem["MemAvailable"]), float64(mem["MemTotal"])
	nodeShort := totalKB > 0 && availKB < 0.1*totalKB
	cg := top.cg
	var end model.CgroupMem
	var hits uint64
	atLimit := false
	if cg != nil && cg.MemLimit > 0 {
		var ok bool
		end, hits, ok = cg.MemBetween(c.From, c.To)
		atLimit = ok && (float64(end.Usage) >= 0.9*float64(cg.MemLimit) || hits > 0)
	}
	if !atLimit || nodeShort {
		if nodeShort {
			f.Summary += fmt.Sprintf(" The node is short of memory: %s available of %s.", prose.Bytes(availKB*1024), prose.Bytes(totalKB*1024))
		}
		f.Mitigations = nodeMemoryMitigations()
		return []content.Finding{f}
	}
	// The limit makes it swap. Its working set is at least what is
	// charged to it plus what it has in swap.
	swapped, swapKnown := end.Swap, end.HasSwap
	if !swapKnown && top.hasKB {
		swapped, swapKnown = top.swapKB*1024, true
	}
	// The cause is the limit; the process is who it holds.
	f.Limit = content.MemoryLimit
	f.Title = fmt.Sprintf("%s swaps because its memory cgroup is at its limit (%s), on a node with %s available", window.Name(top.p.Proc), prose.Bytes(float64(cg.MemLimit)), prose.Bytes(availKB*1024))
	f.Summary += fmt.Sprintf(" Its %s is at its limit: %s charged of %s, the limit hit %d times in the window", c.CgroupName(cg, "memory"), prose.Bytes(float64(end.Usage)), prose.Bytes(float64(cg.MemLimit)), hits)
	if swapKnown {
		f.Summary += fmt.Sprintf(", %s of it in swap", prose.Bytes(float64(swapped)))
	}
	f.Summary += fmt.Sprintf(". The node has %s available: it is the limit, not the node, that makes the kernel reclaim the cgroup's pages to swap and read them back.", prose.Bytes(availKB*1024))
	figs := map[string]float64{FigLimitBytes: float64(cg.MemLimit), FigUsageBytes: float64(end.Usage), FigLimitHits: float64(hits)}
	if swapKnown {
		figs["swap_bytes"] = float64(swapped)
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " and " + bundle.CgroupLimitsMember, Ticks: c.TickSpan(),
		What: fmt.Sprintf("%s (%s): limit %s, usage %s at the end, limit hit %d times in the window%s", c.CgroupName(cg, "memory"), cg.Path, prose.Bytes(float64(cg.MemLimit)), prose.Bytes(float64(end.Usage)), hits,
			map[bool]string{true: fmt.Sprintf(", %s in swap", prose.Bytes(float64(swapped))), false: ""}[swapKnown]),
		Figures: figs})
	raise := "at least its usage plus what it has in swap"
	if swapKnown {
		need := float64(end.Usage+swapped) * 1.1
		need = math.Ceil(need/(64<<20)) * (64 << 20) // a round 64 MiB
		raise = fmt.Sprintf("to about %s (its %s charged plus %s in swap, and 10 %% headroom, rounded up to 64 MiB), %s more than now", prose.Bytes(need), prose.Bytes(float64(end.Usage)), prose.Bytes(float64(swapped)), prose.Bytes(need-float64(cg.MemLimit)))
	}
	limitFile := "memory.max"
	if !cg.V2 {
		limitFile = "memory.limit_in_bytes"
	}
	f.Mitigations = []content.Mitigation{
		{Horizon: content.Immediate, Action: fmt.Sprintf("Raise the memory limit of %s %s", cg.Path, raise), How: fmt.Sprintf("Write the new size to %s/%s (or resources.limits.memory, docker run's --memory, systemd MemoryMax=)", cg.Path, limitFile), Effect: "Its working set fits: the kernel stops reclaiming its pages to swap and the major faults stop"},
		{Horizon: content.ShortTerm, Action: "Or shrink its working set under the limit", How: fmt.Sprintf("Smaller caches or heap in %s (a JVM's -Xmx, a database's buffer pool) so that what it touches fits in %s", window.Name(top.p.Proc), prose.Bytes(float64(cg.MemLimit))), Effect: "The same limit without swapping"},
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/meminfo)",
		What: "not advised, tighter memory limits: this cgroup's limit is what makes it swap; the node has room"})
	return []content.Finding{f}
}

// nodeMemoryMitigations are for a node short of memory.
func nodeMemoryMitigations() []content.Mitigation {
	return []content.Mitigation{
		{Horizon: content.Immediate, Action: "Find the memory consumers", How: "ps -eo pid,rss,comm --sort=-rss | head; memory.current (v2) or memory.usage_in_bytes (v1) of the cgroups", Effect: "Who holds the node's memory is known"},
		{Horizon: content.ShortTerm, Action: "Reduce the node's memory load", How: "Move workloads off the node or add memory; bound the largest consumers with memory limits sized to their working set", Effect: "Paging stops; the OOM killer acts on an offender instead of the whole node slowing down"},
	}
}

// swapAreas names the swap areas and their device's IO over the window:
// on a device of its own, all of that device's IO is swap.
func swapAreas(c *window.Window) []content.Evidence {
	var out []content.Evidence
	for _, s := range c.Model.Swaps {
		what := fmt.Sprintf("swap area %s (%s), %s of %s used at the start", s.Filename, s.Type, prose.Bytes(float64(s.UsedKB)*1024), prose.Bytes(float64(s.SizeKB)*1024))
		dev := ""
		if s.Type == "partition" {
			dev = strings.TrimPrefix(s.Filename, "/dev/")
		} else if m, ok := model.MountFor(c.Model.Mounts, s.Filename); ok {
			for name, b := range c.Model.Blocks {
				if m.Major == b.Dev.Major && m.Minor == b.Dev.Minor {
					dev = name
				}
			}
		}
		if x, ok := c.Devices[dev]; ok {
			what += fmt.Sprintf("; its device %s read %.0f kB/s and wrote %.0f kB/s (%%util %.0f, await %.1f ms)", dev, x.RkBPS, x.WkBPS, x.Util, x.Await)
			if s.Type == "partition" {
				what += ", all of it swap"
			} else {
				what += ", swap and file IO together"
			}
		}
		out = append(out, content.Evidence{Member: bundle.HostMember + " (/proc/swaps)", What: what})
	}
	return out
}
