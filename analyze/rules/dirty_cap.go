package rules

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// A writer throttled while the node's dirty memory is below the free-run
// point, (background + limit) / 2, is not held by the global limit: without
// strict_limit balance_dirty_pages() pauses no one there, whatever a
// device's share (REFERENCE-IO.md 9.3, 14.4). What holds it is a cap of
// its own: its device's bdi (strict_limit, max_ratio, max_bytes; FUSE's
// bdis are strict by default) or its memory cgroup's dirty limit. Lowering
// the global vm.dirty_* sysctls does not lift it and throttles every other
// writer on the node.

// dirtyCap is what holds writers below the node's dirty limit.
type dirtyCap struct {
	// Name says the cap ("bdi 7:0 (loop0) has strict_limit with
	// max_bytes 32.0 MiB"); "" when the bundle cannot tell.
	Name        string
	Why         string
	Evidence    []content.Evidence
	Mitigations []content.Mitigation
}

// findDirtyCap names the cap that holds the writers pids, from the
// device of their pauses (the trace's balance_dirty_pages) or of the file
// they write, its bdi settings and their memory cgroups.
func findDirtyCap(c *window.Window, pids []int, paused map[int]model.Throttle) dirtyCap {
	m := c.Model
	for _, pid := range pids {
		dev, fuse, ok := writerBDI(c, pid, paused)
		if !ok {
			continue
		}
		name := "bdi " + dev.String()
		if d := m.DiskName(dev); d != "" && d != dev.String() {
			name += " (" + d + ")"
		}
		b := m.BDIOf(dev)
		if b != nil && b.Capped() {
			return bdiCap(c, name, b, fuse)
		}
		if m.BDIs == nil {
			why := "this bundle holds no per-device dirty settings (/sys/class/bdi, captured by newer collectors), so which cap holds it — " + name + "'s strict_limit, max_ratio or max_bytes, or the writer's memory cgroup — is not known"
			if fuse {
				why += "; its filesystem is FUSE, whose bdis are strict by default"
			}
			return dirtyCap{Why: why}
		}
		if cp := memcgCap(c, pid); cp.Name != "" {
			return cp
		}
		return dirtyCap{Why: fmt.Sprintf("%s is not capped (strict_limit %s, max_ratio %s) and the writer's memory cgroup has no limit the bundle shows: what held it is not known", name, orDash(b.Settings["strict_limit"]), orDash(b.Settings["max_ratio"]))}
	}
	if cp := memcgCapAny(c, pids); cp.Name != "" {
		return cp
	}
	return dirtyCap{Why: "the device it writes to is not known, so neither is which cap held it: a device's own (strict_limit, max_ratio, max_bytes in /sys/class/bdi) or its memory cgroup's"}
}

// writerBDI is the backing device a writer was held on: its pauses' in
// the block trace, else its hot file's filesystem; fuse when that
// filesystem is FUSE.
func writerBDI(c *window.Window, pid int, paused map[int]model.Throttle) (procfs.Dev, bool, bool) {
	var fuse bool
	var dev procfs.Dev
	found := false
	if tv := c.Target(pid); tv != nil {
		if pl, ok := c.Place(tv, c.HotFile(tv)); ok {
			fuse = strings.HasPrefix(pl.HostMount.FSType, "fuse")
			dev, found = procfs.Dev{Major: pl.HostMount.Major, Minor: pl.HostMount.Minor}, true
			if c.Model.BDIOf(dev) == nil {
				if b := c.Model.Blocks[pl.Device]; b != nil && c.Model.BDIOf(b.Dev) != nil {
					dev = b.Dev // a partition writes through its disk's bdi
				}
			}
		}
	}
	if th, ok := paused[pid]; ok && th.Pauses > 0 && (th.BDI != procfs.Dev{}) {
		dev, found = th.BDI, true
	}
	return dev, fuse, found
}

// bdiCap describes a capped bdi and how to lift it.
func bdiCap(c *window.Window, name string, b *model.BDI, fuse bool) dirtyCap {
	var limits []string
	if b.MaxBytes > 0 {
		limits = append(limits, "max_bytes "+prose.Bytes(float64(b.MaxBytes)))
	}
	// Writing max_bytes sets the ratio the kernel keeps (max_ratio then
	// reads as its whole-percent part, often 0): quote the one set.
	if b.HasRatio && b.MaxRatio < 100 && b.MaxBytes == 0 {
		limits = append(limits, fmt.Sprintf("max_ratio %d %%", b.MaxRatio))
	}
	cp := dirtyCap{}
	switch {
	case b.StrictLimit && len(limits) > 0:
		cp.Name = fmt.Sprintf("%s has strict_limit with %s", name, strings.Join(limits, " and "))
	case b.StrictLimit:
		cp.Name = name + " has strict_limit"
	default:
		cp.Name = fmt.Sprintf("%s is capped at %s of the dirty limit", name, strings.Join(limits, " and "))
	}
	cp.Why = "with strict_limit the kernel enforces the device's own share of the dirty limit from the first page, so its writers are paced to its writeback speed while the node's dirty memory is far below the global limit"
	if !b.StrictLimit {
		cp.Why = "its share of the dirty limit is capped, so its writers are paced once they use that share, while the node's dirty memory is far below the global limit"
	}
	if fuse {
		cp.Why += "; FUSE sets strict_limit on its bdis by default"
	}
	dir := "/sys/class/bdi/" + b.Name
	cp.Evidence = []content.Evidence{{Member: bundle.HostMember + " (" + dir + ")",
		What: fmt.Sprintf("%s: strict_limit %s, min_ratio %s, max_ratio %s, min_bytes %s, max_bytes %s", dir, orDash(b.Settings["strict_limit"]), orDash(b.Settings["min_ratio"]), orDash(b.Settings["max_ratio"]), orDash(b.Settings["min_bytes"]), orDash(b.Settings["max_bytes"]))}}
	how := fmt.Sprintf("echo 0 > %s/strict_limit (or raise %s/max_bytes or max_ratio) if the cap was set by hand and the node has the memory", dir, dir)
	if fuse {
		how = fmt.Sprintf("raise %s/max_ratio or max_bytes (Linux 6.2 and later; FUSE keeps strict_limit)", dir)
	}
	cp.Mitigations = []content.Mitigation{{Horizon: content.ShortTerm, Action: "Raise or lift the device's own dirty cap, not the node's", How: how + "; do not lower vm.dirty_* for it: that throttles every writer on the node",
		Effect: "The writer's bursts are absorbed by the page cache; a sustained writer is still paced to the device's speed"}}
	return cp
}

// memcgCap is a writer's memory cgroup's dirty limit: the dirty ratios
// apply to what the cgroup may use.
func memcgCap(c *window.Window, pid int) dirtyCap {
	pio := c.ByPID[pid]
	if pio == nil {
		return dirtyCap{}
	}
	cg := c.Model.MemoryCgroup(pio.Proc)
	if cg == nil || cg.MemLimit == 0 {
		return dirtyCap{}
	}
	cp := dirtyCap{Name: fmt.Sprintf("the %s of %s is limited to %s", c.CgroupName(cg, "memory"), window.Name(pio.Proc), prose.Bytes(float64(cg.MemLimit))),
		Why: "the dirty ratios apply to the memory a cgroup may use, so its writers are throttled at a fraction of its limit while the node's dirty memory is far below the global one"}
	what := fmt.Sprintf("%s: memory limit %s", cg.Path, prose.Bytes(float64(cg.MemLimit)))
	if cg.HasDirty {
		what += fmt.Sprintf("; at the end %s dirty and %s under writeback (memory.stat)", prose.Bytes(float64(cg.Dirty)), prose.Bytes(float64(cg.Writeback)))
	}
	cp.Evidence = []content.Evidence{{Member: bundle.CgroupLimitsMember, What: what}}
	cp.Mitigations = []content.Mitigation{{Horizon: content.ShortTerm, Action: "Give the writer's cgroup room for its dirty pages, not the node", How: "raise the cgroup's memory limit, or have the writer flush as it goes (sync_file_range, O_DIRECT); do not lower vm.dirty_* for it: that throttles every writer on the node",
		Effect: "The writer is paced later, or by its own flushing rather than by the kernel"}}
	return cp
}

// memcgCapAny is memcgCap of the first writer that has one.
func memcgCapAny(c *window.Window, pids []int) dirtyCap {
	for _, pid := range pids {
		if cp := memcgCap(c, pid); cp.Name != "" {
			return cp
		}
	}
	return dirtyCap{}
}
