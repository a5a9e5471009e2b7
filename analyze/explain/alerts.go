package explain

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/iorca/iorca/internal/procfs"

	"github.com/iorca/iorca/analyze/alerts"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/report/content"
)

// alerts are the alert rules the serious findings call for, each proven
// on the bundle's own series: a rule that would not have fired on them
// is not proposed. cont is the culprit's container, "" for none.
func (e *explainer) alerts(cont string) []content.Alert {
	set := alerts.FromModel(e.m)
	if set.Len() < 2 {
		return nil
	}
	e.series = set
	th := e.c.Thresholds
	pw, ph := alerts.Production(time.Duration(th.AlertScrapeS * float64(time.Second)))
	var out []content.Alert
	seen := map[string]bool{}
	// add proves the rule mk builds at the bundle's resolution, and
	// publishes it at production windows with what it was evaluated on.
	add := func(f *content.Finding, on string, mk func(w, hold time.Duration) alerts.Rule) {
		a, ok := alerts.ProveScaled(set, func(w, hold time.Duration) alerts.Rule {
			r := mk(w, hold)
			r.Finding = f.ID
			return r
		}, pw, ph)
		if !ok || seen[a.Name+a.Expr] {
			return
		}
		seen[a.Name+a.Expr] = true
		a.EvaluatedOn = on
		out = append(out, a)
	}
	for i := range e.d.Findings {
		f := &e.d.Findings[i]
		if f.Severity < content.Warning {
			continue
		}
		for _, wt := range rules.Of(f).Watch {
			switch wt {
			case rules.AlertDevice:
				if d := f.Subjects.Device; d != "" {
					add(f, onCounters("/proc/diskstats"), func(w, hold time.Duration) alerts.Rule {
						return alerts.DeviceSaturated(d, th.UtilPct, th.AwaitMS, w, hold)
					})
				}
			case rules.AlertIOPressure:
				add(f, onCounters("/proc/pressure/io"), func(w, hold time.Duration) alerts.Rule { return alerts.IOPressure(th.PSIFullPct, w, hold) })
			case rules.AlertSyncStorm:
				if dev := e.deviceOf(f); dev != "" {
					add(f, onCounters("/proc/diskstats"), func(w, hold time.Duration) alerts.Rule { return alerts.SyncStorm(dev, w, hold) })
				}
			case rules.AlertContainerWrites:
				// A tmpfs writer's block writes cannot fire an alert.
				if _, mem := e.culpritInMemory(); cont != "" && !mem {
					add(f, onCounters("its cgroup's IO counters (io.stat, v1 blkio.throttle.io_serviced)"), func(w, hold time.Duration) alerts.Rule {
						return alerts.ContainerWriteFlood(cont, th.SmallWriteMinPerSec, w, hold)
					})
				}
			case rules.AlertFilesystemFull:
				if mp := f.Subjects.Mount; mp != "" {
					add(f, "derived: the capture's one statfs reading, the same at every tick", func(_, hold time.Duration) alerts.Rule {
						return alerts.FilesystemAlmostFull(mp, th.FSFullPct, hold)
					})
				}
			case rules.AlertFilesystemFilling:
				if mp, fill, by, ok := e.fillSeries(set, f); ok {
					horizon, sev := alerts.FillHorizon(fill)
					add(f, "derived: the capture's one statfs reading less what its writers "+by+" since the first tick", func(w, hold time.Duration) alerts.Rule {
						return alerts.FilesystemFillingUp(mp, max(w, 2*w), hold, horizon, sev)
					})
				}
			case rules.AlertSwapIO:
				add(f, onCounters("/proc/vmstat"), func(w, hold time.Duration) alerts.Rule { return alerts.SwapIO(th.SwapPagesPerSec, w, hold) })
			case rules.AlertThrottle:
				e.throttleAlert(f, add)
			case rules.AlertReadOnly:
				out = e.readOnly(set, f, out, seen, pw, ph)
			}
		}
	}
	return out
}

// throttleAlert adds, for a cgroup held at a bytes-a-second limit, the
// rule on its usage against that limit, on cAdvisor's series of the
// cgroup's own counters.
func (e *explainer) throttleAlert(f *content.Finding, add func(*content.Finding, string, func(w, hold time.Duration) alerts.Rule)) {
	limit, ok := f.Figure(rules.FigLimit)
	inBytes, _ := f.Figure(rules.FigLimitInBytes)
	if !ok || inBytes != 1 || f.Subjects.Device == "" {
		return
	}
	_, rel, _ := strings.Cut(f.Subjects.Cgroup, ":")
	b := e.m.Blocks[f.Subjects.Device]
	if b == nil {
		return
	}
	major, minor, _ := strings.Cut(b.Dev.String(), ":")
	op := "Read"
	if w, _ := f.Figure(rules.FigLimitWrites); w == 1 {
		op = "Write"
	}
	pct := e.c.Thresholds.ThrottleUsePct
	add(f, onCounters("the cgroup's IO counters (io.stat, v1 blkio.throttle.io_service_bytes), as cAdvisor's container_blkio_device_usage_total"), func(w, hold time.Duration) alerts.Rule {
		return alerts.CgroupThrottled(rel, major, minor, op, limit, pct, w, hold)
	})
}

// onCounters says that a rule was evaluated on the bundle's own counters
// from source, one sample a tick.
func onCounters(source string) string {
	return "captured counters: " + source + ", one sample a tick"
}

// deviceOf is the device a finding's writes go to: its subject, else the
// device the report says hurts most.
func (e *explainer) deviceOf(f *content.Finding) string {
	if f.Subjects.Device != "" {
		return f.Subjects.Device
	}
	if wd := worstDevice(e.c); wd != nil {
		return wd.Name
	}
	return ""
}

// fillSeries replaces the free bytes of the filesystem that holds f's
// file with the statfs reading less what f's processes wrote since the
// first tick — the pages they dirtied (write_bytes; ext4 and XFS reserve
// the space of delayed allocations at once), or on a memory filesystem,
// whose pages are never dirtied for writeback, the bytes they handed to
// write() (wchar) — and returns its mount point, the seconds it has left
// at the capture's rate and what was counted.
func (e *explainer) fillSeries(set *alerts.Set, f *content.Finding) (string, float64, string, bool) {
	mt, ok := e.mountOf(f)
	if !ok {
		return "", 0, "", false
	}
	avail := set.Find("node_filesystem_avail_bytes", map[string]string{"mountpoint": mt.MountPoint})
	if avail == nil || len(avail.Values) == 0 {
		return "", 0, "", false
	}
	memory := mt.FSType == "tmpfs" || mt.FSType == "ramfs"
	by := "dirtied (write_bytes)"
	if memory {
		by = "wrote (wchar: tmpfs pages are never dirtied for writeback)"
	}
	dirtied := make([]float64, len(avail.Values))
	for _, p := range e.m.Procs {
		if !slices.Contains(f.Subjects.PIDs, p.PID) {
			continue
		}
		first := -1.0
		for k := p.First; k <= p.Last && k < len(dirtied); k++ {
			pt, ok := e.m.PointAt(p, k)
			if !ok || !pt.HasIO {
				continue
			}
			v := float64(pt.IO.WriteBytes)
			if memory {
				v = float64(pt.IO.WChar)
			}
			if first < 0 {
				first = v
			}
			dirtied[k] += v - first
		}
	}
	for k := range avail.Values {
		avail.Values[k] = math.Max(0, avail.Values[0]-dirtied[k])
	}
	n := len(avail.Values) - 1
	fill := 0.0
	if span := float64(n) * set.Interval.Seconds(); span > 0 && dirtied[n] > 0 {
		fill = avail.Values[n] / (dirtied[n] / span)
	}
	return mt.MountPoint, fill, by, true
}

// mountOf is the mount that holds f's file as its writer sees it (a
// tmpfs only its container's namespace has, read through its root), named
// as the statfs the series come from names it; else the host's mount.
func (e *explainer) mountOf(f *content.Finding) (procfs.Mount, bool) {
	if f.Subjects.Path == "" {
		return procfs.Mount{}, false
	}
	for _, pid := range f.Subjects.PIDs {
		pl, ok := e.c.Place(e.c.Target(pid), f.Subjects.Path)
		if !ok || pl.Mount.ID == 0 {
			continue
		}
		for _, st := range e.m.Statfs {
			if st.MountID == pl.Mount.ID && st.Blocks > 0 {
				mt := pl.Mount
				mt.MountPoint = st.MountPoint
				return mt, true
			}
		}
	}
	return model.MountFor(e.m.Mounts, f.Subjects.Path)
}

// readOnly adds, for a failing device, a rule on each of its filesystems
// remounted read-only (node_filesystem_readonly, 0 until the kernel's
// remount line and 1 from it; 1 at the end by the mount table when the
// log has no line), and a log-based rule on its kernel IO error lines,
// firing at the first of them.
func (e *explainer) readOnly(set *alerts.Set, f *content.Finding, out []content.Alert, seen map[string]bool, pw, ph time.Duration) []content.Alert {
	dev := f.Subjects.Device
	if dev == "" {
		return out
	}
	evs := e.m.KernelEvents()
	n := set.Len()
	ro := e.c.ReadOnlyAtEnd(dev)
	for _, mp := range ro {
		x := set.Find("node_filesystem_readonly", map[string]string{"mountpoint": mp})
		if x == nil {
			x = set.Add("node_filesystem_readonly", map[string]string{"mountpoint": mp}, n)
		}
		from := n - 1
		for _, ev := range evs {
			if ev.Kind == model.ReadOnly && ev.Device == dev {
				from = min(from, max(0, int(math.Ceil(float64(ev.Offset)/float64(set.Interval)))))
			}
		}
		for k := range x.Values {
			x.Values[k] = 0
			if k >= from {
				x.Values[k] = 1
			}
		}
		r := alerts.FilesystemReadOnly(mp)
		r.Finding = f.ID
		if a, ok := alerts.Prove(set, r); ok && !seen[a.Name+a.Expr] {
			seen[a.Name+a.Expr] = true
			a.EvaluatedOn = "derived: node_filesystem_readonly 0 until the kernel logged the remount, 1 from then (the bundle's mount table at the end confirms it)"
			out = append(out, a)
		}
	}
	// The kernel's error lines come first (the remount follows them),
	// and catch what no remount shows: errors=continue, a raw device, XFS
	// shutting down.
	// The errors of the device that has the name now: those logged before
	// it was last attached were another device's.
	attach, attached := model.LastAttach(evs, dev)
	for _, ev := range evs {
		if ev.Device != dev || !ev.Error() || (attached && ev.Record.Usec < attach.Record.Usec) {
			continue
		}
		r := alerts.KernelIOErrors(dev, pw)
		r.Finding = f.ID
		a := r.Alert(set.Start, ev.Offset)
		a.EvaluatedOn = "not evaluable by Prometheus or promtool (LogQL): timed by the first matching kernel log line"
		if !seen[a.Name+a.Expr] {
			seen[a.Name+a.Expr] = true
			out = append(out, a)
		}
		break
	}
	return out
}
