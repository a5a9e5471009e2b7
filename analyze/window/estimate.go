package window

import (
	"sort"

	"github.com/iorca/iorca/analyze/model"
)

// Device time is what hurts on a slow or saturated disk (DESIGN.md,
// principle 7): who holds the device, not who moves the most bytes on
// the node. These helpers give the rules and the verdict one reading of
// it, from the block trace, or estimated without one.

// deviceTimes is who holds each device's time: from the block trace, or
// estimated from the targets' open files when the bundle has none.
func deviceTimes(c *Window) (map[string]*model.DeviceTime, bool) {
	if dt := c.Model.DeviceTimes(); dt != nil {
		return dt, false
	}
	return estimateDeviceTimes(c), true
}

// estimateDeviceTimes charges each target's writes to the device its hot
// file lands on: one request per synchronous write or fsync (an O_SYNC,
// O_DSYNC or O_DIRECT file makes every write one), one per average
// request size of its write_bytes otherwise, each costing the device's
// w_await over the window. Processes that were not targets are unknown.
func estimateDeviceTimes(c *Window) map[string]*model.DeviceTime {
	out := map[string]*model.DeviceTime{}
	for _, tv := range c.Targets {
		if tv.IO == nil {
			continue
		}
		pl, ok := c.Place(tv, c.HotFile(tv))
		if !ok {
			continue
		}
		x, ok := c.Devices[pl.Device]
		if !ok || x.WAwait <= 0 {
			continue
		}
		io := tv.IO.Delta.IO
		var ops float64
		if syncFile(c, tv, pl.Path) {
			ops = float64(io.SyscW)
		} else if x.WareqSz > 0 {
			ops = float64(io.WriteBytes) / (x.WareqSz * 1024)
		}
		if tv.Summary != nil && tv.Target.Info.Strace != nil && tv.Target.Info.Strace.TracedSeconds > 0 {
			for _, f := range tv.Summary.Files {
				if f.Path == pl.Path {
					ops += float64(f.Syncs) / tv.Target.Info.Strace.TracedSeconds * tv.IO.Seconds
				}
			}
		}
		if ops <= 0 {
			continue
		}
		dt := out[pl.Device]
		if dt == nil {
			// The device's own time over the window: its busy share of
			// the seconds, as iostat's %util.
			dt = &model.DeviceTime{Device: pl.Device, Seconds: c.Seconds, BusyNS: x.Util / 100 * c.Seconds * 1e9}
			out[pl.Device] = dt
		}
		p := tv.IO.Proc
		dt.Shares = append(dt.Shares, &model.Share{Task: model.Task{PID: p.PID, Comm: p.Comm}, Process: p, DirectNS: ops * x.WAwait * 1e6, Requests: int(ops)})
	}
	for _, dt := range out {
		var sum float64
		for _, s := range dt.Shares {
			sum += s.NS()
		}
		// Waits overlap when requests queue: never more than the device.
		if sum > dt.BusyNS && sum > 0 {
			for _, s := range dt.Shares {
				s.DirectNS *= dt.BusyNS / sum
			}
		}
		sort.Slice(dt.Shares, func(i, j int) bool { return dt.Shares[i].NS() > dt.Shares[j].NS() })
	}
	return out
}

// syncFile reports whether a target's fd on path writes through to the
// device at every write.
func syncFile(c *Window, tv *TargetView, path string) bool {
	for _, fd := range tv.Target.FDs {
		if fd.Path == path && fd.Info != nil && (fd.Info.Flags.Sync() || fd.Info.Flags.DSync() || fd.Info.Flags.Direct(c.Model.Manifest.Host.Arch)) {
			return true
		}
	}
	return false
}
