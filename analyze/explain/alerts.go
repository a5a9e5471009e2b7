package explain

import (
	"math"
	"slices"
	"time"

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
	w, hold := alerts.Scale(set)
	th := e.c.Thresholds
	var out []content.Alert
	seen := map[string]bool{}
	add := func(f *content.Finding, r alerts.Rule) {
		r.Finding = f.ID
		a, ok := alerts.Prove(set, r)
		if !ok || seen[a.Name+a.Expr] {
			return
		}
		seen[a.Name+a.Expr] = true
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
				if f.Subjects.Device != "" {
					add(f, alerts.DeviceSaturated(f.Subjects.Device, th.UtilPct, th.AwaitMS, w, hold))
				}
			case rules.AlertIOPressure:
				add(f, alerts.IOPressure(th.PSIFullPct, w, hold))
			case rules.AlertSyncStorm:
				if dev := e.deviceOf(f); dev != "" {
					add(f, alerts.SyncStorm(dev, w, hold))
				}
			case rules.AlertContainerWrites:
				// A tmpfs writer's block writes cannot fire an alert.
				if _, mem := e.culpritInMemory(); cont != "" && !mem {
					add(f, alerts.ContainerWriteFlood(cont, th.SmallWriteMinPerSec, w, hold))
				}
			case rules.AlertFilesystemFull:
				if f.Subjects.Mount != "" {
					add(f, alerts.FilesystemAlmostFull(f.Subjects.Mount, th.FSFullPct, hold))
				}
			case rules.AlertFilesystemFilling:
				if mp, ok := e.fillSeries(set, f); ok {
					r := alerts.FilesystemFillingUp(mp, max(w, 2*w), hold)
					r.Note = "node_filesystem_avail_bytes per tick is the bundle's statfs less the pages its writers dirtied since (write_bytes; ext4 and XFS reserve the space of delayed allocations at once)"
					add(f, r)
				}
			case rules.AlertSwapIO:
				add(f, alerts.SwapIO(th.SwapPagesPerSec, w, hold))
			case rules.AlertReadOnly:
				out = e.readOnly(set, f, out, seen)
			}
		}
	}
	return out
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
// file with the statfs reading less the pages f's processes dirtied
// since the first tick, and returns its mount point.
func (e *explainer) fillSeries(set *alerts.Set, f *content.Finding) (string, bool) {
	mt, ok := model.MountFor(e.m.Mounts, f.Subjects.Path)
	if !ok || f.Subjects.Path == "" {
		return "", false
	}
	avail := set.Find("node_filesystem_avail_bytes", map[string]string{"mountpoint": mt.MountPoint})
	if avail == nil || len(avail.Values) == 0 {
		return "", false
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
			if first < 0 {
				first = float64(pt.IO.WriteBytes)
			}
			dirtied[k] += float64(pt.IO.WriteBytes) - first
		}
	}
	for k := range avail.Values {
		avail.Values[k] = math.Max(0, avail.Values[0]-dirtied[k])
	}
	return mt.MountPoint, true
}

// readOnly adds, for a failing device, a rule on each of its filesystems
// remounted read-only (node_filesystem_readonly, 0 until the kernel's
// remount line and 1 from it; 1 at the end by the mount table when the
// log has no line), and a log-based rule on its kernel IO error lines,
// firing at the first of them.
func (e *explainer) readOnly(set *alerts.Set, f *content.Finding, out []content.Alert, seen map[string]bool) []content.Alert {
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
		r.Note = "node_filesystem_readonly per tick: 0 until the kernel logged the remount, 1 from then (the bundle's mount table at the end confirms it)"
		if a, ok := alerts.Prove(set, r); ok && !seen[a.Name+a.Expr] {
			seen[a.Name+a.Expr] = true
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
		w, _ := alerts.Scale(set)
		r := alerts.KernelIOErrors(dev, max(w, time.Minute))
		r.Finding = f.ID
		a := r.Alert(set.Start, ev.Offset)
		if !seen[a.Name+a.Expr] {
			seen[a.Name+a.Expr] = true
			out = append(out, a)
		}
		break
	}
	return out
}
