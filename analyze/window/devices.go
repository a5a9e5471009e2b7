package window

import (
	"sort"

	"github.com/iorca/iorca/analyze/model"
)

// Which devices hurt: saturated, or the busiest when none is.

// Saturated lists the whole devices above both saturation thresholds over
// the window, worst (util × await) first.
func (c *Window) Saturated() []string {
	var out []string
	for d, x := range c.Devices {
		if c.IsSaturated(d, x) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := c.Devices[out[i]], c.Devices[out[j]]
		if a.Util*a.Await != b.Util*b.Await {
			return a.Util*a.Await > b.Util*b.Await
		}
		return out[i] < out[j]
	})
	return out
}

// Hurting lists the devices whose time decides the culprit: the
// saturated ones, worst first; without one, the busiest device, if it was
// busy at least half of UtilPct of the time — a loud process on an idle
// disk is not what hurts a node whose other disk is twice as busy.
func (c *Window) Hurting() []string {
	if sat := c.Saturated(); len(sat) > 0 {
		return sat
	}
	if name, x, ok := c.BusiestDevice(); ok && x.Util >= c.Thresholds.UtilPct/2 {
		return []string{name}
	}
	return nil
}

// IsSaturated is the one test of a saturated device: requests wait longer
// than AwaitMS while the device is busy over UtilPct of the time, or while
// QueueDepth requests are queued on average (io_ticks undercounts
// requests that last longer than a jiffy). Where the block trace covers
// the device, it is the device's own figure for the second case: the time
// it had a request in flight must be over UtilPct too — a device that
// serves requests in parallel queues a writeback burst deeply and slowly
// while busy a third of the time, and is not saturated.
func (c *Window) IsSaturated(dev string, x model.Iostat) bool {
	if x.Await <= c.Thresholds.AwaitMS {
		return false
	}
	if x.Util > c.Thresholds.UtilPct {
		return true
	}
	if x.AquSz < c.Thresholds.QueueDepth {
		return false
	}
	return c.TraceBusyPct(dev) < 0 || c.TraceBusyPct(dev) > c.Thresholds.UtilPct
}

// TraceBusyPct is the share of the block trace's span in which dev had a
// request in flight, -1 when the trace does not cover it.
func (c *Window) TraceBusyPct(dev string) float64 {
	dt := c.DeviceTimes[dev]
	if dt == nil || dt.Seconds <= 0 || c.DeviceTimesEstimated {
		return -1
	}
	return dt.BusyNS / (dt.Seconds * 1e9) * 100
}

// BusiestDevice is the whole device with the highest %util over the
// window (the most bytes among equals).
func (c *Window) BusiestDevice() (string, model.Iostat, bool) {
	var names []string
	for n := range c.Devices {
		names = append(names, n)
	}
	sort.Strings(names)
	best, found := "", false
	var bx model.Iostat
	for _, n := range names {
		x := c.Devices[n]
		if !found || x.Util > bx.Util || (x.Util == bx.Util && x.RkBPS+x.WkBPS > bx.RkBPS+bx.WkBPS) {
			best, bx, found = n, x, true
		}
	}
	return best, bx, found
}
