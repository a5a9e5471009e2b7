package rules

import (
	"fmt"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/procfs"
)

// What write_bytes means: pages dirtied in the page cache (or written
// directly), not bytes the device wrote. A writer whose device stays idle
// costs memory now and device time later; these helpers say when, from the
// bundle's own figures (REFERENCE-IO.md 3.1, 9).

// nodeCPU is the node's CPU use over the window from /proc/stat: the busy
// share of all CPUs, and the share spent in the kernel (system, irq,
// softirq).
func nodeCPU(c *window.Window) (busy, kernel float64, ok bool) {
	a, b := c.Model.Ticks[c.From].Stat, c.Model.Ticks[c.To].Stat
	if a == nil || b == nil {
		return 0, 0, false
	}
	all := func(t procfs.CPUTimes) uint64 {
		return t.User + t.Nice + t.System + t.Idle + t.IOWait + t.IRQ + t.SoftIRQ + t.Steal
	}
	total := float64(all(b.CPU) - all(a.CPU))
	if total <= 0 {
		return 0, 0, false
	}
	idle := float64((b.CPU.Idle - a.CPU.Idle) + (b.CPU.IOWait - a.CPU.IOWait))
	sys := float64((b.CPU.System - a.CPU.System) + (b.CPU.IRQ - a.CPU.IRQ) + (b.CPU.SoftIRQ - a.CPU.SoftIRQ))
	return (total - idle) / total * 100, sys / total * 100, true
}

// dirtyForecast says, for a writer dirtying bytesPerSec, how long until
// the dirty page cache reaches the background threshold (when writeback
// starts) and the dirty limit (when writers are throttled), from the last
// tick's vmstat; "" without the figures.
func dirtyForecast(c *window.Window, bytesPerSec float64) string {
	v := c.Model.Ticks[c.To].Vmstat
	if v == nil || bytesPerSec <= 0 || v["nr_dirty_threshold"] == 0 {
		return ""
	}
	page := c.PageSize()
	dirty := float64(v["nr_dirty"]+v["nr_writeback"]) * page
	bg, limit := float64(v["nr_dirty_background_threshold"])*page, float64(v["nr_dirty_threshold"])*page
	when := func(to float64) string {
		if dirty >= to {
			return "already"
		}
		return fmt.Sprintf("in about %.0f s", (to-dirty)/bytesPerSec)
	}
	return fmt.Sprintf("dirty memory (%s) reaches the background threshold (%s, where writeback starts) %s and the dirty limit (%s, where writers are throttled) %s",
		prose.Bytes(dirty), prose.Bytes(bg), when(bg), prose.Bytes(limit), when(limit))
}

// fillForecast says when the filesystem holding a target's file fills at
// bytesPerSec, from its statfs; "" when unknown.
func fillForecast(c *window.Window, tv *window.TargetView, path string, bytesPerSec float64) string {
	mp, secs, avail := fillSeconds(c, tv, path, bytesPerSec)
	if mp == "" {
		return ""
	}
	return fmt.Sprintf("%s fills in about %.0f s at this rate (%s available)", mp, secs, prose.Bytes(avail))
}

// fillSeconds is the mount holding a target's file and how many seconds
// it has left at bytesPerSec, from its statfs; "" when unknown.
func fillSeconds(c *window.Window, tv *window.TargetView, path string, bytesPerSec float64) (string, float64, float64) {
	pl, ok := c.Place(tv, path)
	if !ok || bytesPerSec <= 0 {
		return "", 0, 0
	}
	for _, s := range c.Model.Statfs {
		if s.MountPoint != pl.HostMount.MountPoint || s.Blocks == 0 {
			continue
		}
		avail := float64(s.BlocksAvail) * float64(s.BlockSize)
		return s.MountPoint, avail / bytesPerSec, avail
	}
	return "", 0, 0
}

// urgentFill is how soon (in seconds) a filesystem filling up makes
// freeing it the first thing to do.
const urgentFill = 600

// deviceIdle reports whether a device was far from busy over the window:
// under half the saturation %util and under the await threshold.
func deviceIdle(c *window.Window, dev string) bool {
	x, ok := c.Devices[dev]
	return ok && x.Util < c.Thresholds.UtilPct/2 && x.Await < c.Thresholds.AwaitMS
}
