package advice

import (
	"fmt"
	"strconv"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// What write_bytes means: pages dirtied in the page cache (or written
// directly), not bytes the device wrote. A writer whose device stays idle
// costs memory now and device time later; these helpers say when, from the
// bundle's own figures (REFERENCE-IO.md 3.1, 9).

// NodeCPU is the node's CPU use over the window from /proc/stat: the busy
// share of all CPUs, and the share spent in the kernel (system, irq,
// softirq).
func NodeCPU(c *window.Window) (busy, kernel float64, ok bool) {
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

// DirtyForecast says, for a writer dirtying bytesPerSec, where the
// node's dirty memory goes from the last tick's vmstat (REFERENCE-IO.md
// 9.2, 9.3): the flushers write back pages older than
// dirty_expire_centisecs (30 s by default) whatever the amount, a file at
// a time, so at a steady rate dirty memory rises to about (expire + one
// flusher period) × rate and falls back, when that is below the
// background threshold (and the device keeps up); otherwise it
// reaches the background threshold, where the flushers start writing
// whatever the age, and then the free-run point, (background + limit) / 2,
// from which the kernel paces writers. "" without the figures.
func DirtyForecast(c *window.Window, bytesPerSec float64) string {
	v := c.Model.Ticks[c.To].Vmstat
	if v == nil || bytesPerSec <= 0 || v["nr_dirty_threshold"] == 0 {
		return ""
	}
	page := c.PageSize()
	dirty := float64(v["nr_dirty"]+v["nr_writeback"]) * page
	bg, limit := float64(v["nr_dirty_background_threshold"])*page, float64(v["nr_dirty_threshold"])*page
	freerun := (bg + limit) / 2
	expire, known := DirtyExpire(c)
	expireText := fmt.Sprintf("dirty_expire_centisecs %.0f s", expire)
	if !known {
		expireText = fmt.Sprintf("dirty_expire_centisecs, %.0f s by default", expire)
	}
	// Expiry is per inode (its dirtied_when): once a file's oldest dirty
	// page is older than expire, the periodic flusher (every
	// dirty_writeback_centisecs) writes the file back, and it fills again
	// from clean: a sawtooth whose peak is the writes of expire plus one
	// flusher period.
	period := 5.0
	if cs, err := strconv.ParseFloat(c.Model.Sysctl["vm/dirty_writeback_centisecs"], 64); err == nil && cs > 0 {
		period = cs / 100
	}
	if peak := (expire + period) * bytesPerSec; peak < bg && dirty < bg {
		return fmt.Sprintf("at this rate dirty memory (%s now) rises to about %s, the writes of %.0f s, and falls back each time: once a file's oldest dirty page is older than %s the flushers, which look every %.0f s, write that file back and it fills again from clean; so it stays below the background threshold (%s) and the free-run point (%s, from which the kernel paces writers), as long as the device keeps up with %s/s",
			prose.Bytes(dirty), prose.Bytes(peak), expire+period, expireText, period, prose.Bytes(bg), prose.Bytes(freerun), prose.Bytes(bytesPerSec))
	}
	when := func(to float64) string {
		if dirty >= to {
			return "already"
		}
		return fmt.Sprintf("in about %.0f s", (to-dirty)/bytesPerSec)
	}
	return fmt.Sprintf("dirty memory (%s) reaches the background threshold (%s, where the flushers write whatever the pages' age) %s and the free-run point (%s, halfway to the dirty limit %s, from which the kernel paces writers) %s",
		prose.Bytes(dirty), prose.Bytes(bg), when(bg), prose.Bytes(freerun), prose.Bytes(limit), when(freerun))
}

// DirtyExpire is vm.dirty_expire_centisecs in seconds: how old dirty data
// gets before the flushers write it; the kernel's default (30 s) and
// false when the bundle does not say.
func DirtyExpire(c *window.Window) (float64, bool) {
	if cs, err := strconv.ParseFloat(c.Model.Sysctl["vm/dirty_expire_centisecs"], 64); err == nil && cs > 0 {
		return cs / 100, true
	}
	return 30, false
}

// FillForecast says when the filesystem holding a target's file fills at
// bytesPerSec, from its statfs; "" when unknown.
func FillForecast(c *window.Window, tv *window.TargetView, path string, bytesPerSec float64) string {
	mp, secs, avail := FillSeconds(c, tv, path, bytesPerSec)
	if mp == "" {
		return ""
	}
	return fmt.Sprintf("%s fills in about %.0f s at this rate (%s available)", mp, secs, prose.Bytes(avail))
}

// FillSeconds is the mount holding a target's file and how many seconds
// it has left at bytesPerSec, from its statfs; "" when unknown.
func FillSeconds(c *window.Window, tv *window.TargetView, path string, bytesPerSec float64) (string, float64, float64) {
	pl, ok := c.Place(tv, path)
	if !ok || bytesPerSec <= 0 {
		return "", 0, 0
	}
	// The target's own mount by its ID (a tmpfs only its namespace sees
	// was read through its root), else the host mount holding the data.
	var found *bundle.Statfs
	for i, s := range c.Model.Statfs {
		if s.Blocks == 0 {
			continue
		}
		if s.MountID == pl.Mount.ID && pl.Mount.ID != 0 {
			found = &c.Model.Statfs[i]
			break
		}
		if found == nil && s.MountPoint == pl.HostMount.MountPoint {
			found = &c.Model.Statfs[i]
		}
	}
	if found == nil {
		return "", 0, 0
	}
	avail := float64(found.BlocksAvail) * float64(found.BlockSize)
	return found.MountPoint, avail / bytesPerSec, avail
}

// UrgentFill is how soon (in seconds) a filesystem filling up makes
// freeing it the first thing to do.
const UrgentFill = 600

// DeviceIdle reports whether a device was far from busy over the window:
// under half the saturation %util and under the await threshold.
func DeviceIdle(c *window.Window, dev string) bool {
	x, ok := c.Devices[dev]
	return ok && x.Util < c.Thresholds.UtilPct/2 && x.Await < c.Thresholds.AwaitMS
}
