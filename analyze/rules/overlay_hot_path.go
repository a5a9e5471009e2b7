package rules

import (
	"fmt"
	"math"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// overlayHotPath reports a heavily written file that resolves, in the
// writer's own mount namespace, onto an overlayfs mount (a container's
// root): it names the upper layer and the device under it. Overlay adds
// copy-up on first write and puts the file on the filesystem that holds
// every container's layers.
var overlayHotPath = &Rule{ID: "overlay-hot-path",
	Role: content.Cause, Check: checkOverlayHotPath,
	Clause: func(f *content.Finding) string { return " " + f.Title + "." },
	Watch:  []Watch{WatchOverlay},
}

// A file is hot at the small-writes rate or the amplification byte rate.
func checkOverlayHotPath(c *window.Window) []content.Finding {
	var out []fileFinding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil {
			continue
		}
		// bytes is the bytes a second it hands to write() for the file.
		// waiting is the share of the traced time its write and sync
		// calls to the file took.
		type hot struct {
			path        string
			rate, bytes float64
			source      string
			waiting     float64
		}
		var files []hot
		if tv.Summary != nil && tv.Target.Info.Strace != nil && tv.Target.Info.Strace.TracedSeconds > 0 {
			for _, f := range tv.Summary.Files {
				r := c.WriteRate(tv, f)
				_, costly := costly(c, tv, f.Path)
				if f.Kind == "file" && (costly || r >= c.Thresholds.SmallWriteMinPerSec || float64(f.WriteBytes)/tv.Target.Info.Strace.TracedSeconds >= c.Thresholds.AmplificationMinBytesPerSec) {
					waiting := float64(f.WriteLat.TotalUS+f.SyncLat.TotalUS) / 1e6 / tv.Target.Info.Strace.TracedSeconds
					files = append(files, hot{f.Path, r, r * float64(f.WriteBytes) / float64(max(f.Writes, 1)), tv.Target.Info.Strace.Member, waiting})
				}
			}
		} else if tv.IO != nil && tv.IO.Seconds > 0 && float64(tv.IO.Delta.IO.WriteBytes)/tv.IO.Seconds >= c.Thresholds.AmplificationMinBytesPerSec {
			if ws := writableFiles(tv.Target); len(ws) == 1 {
				files = append(files, hot{ws[0], float64(tv.IO.Delta.IO.SyscW) / tv.IO.Seconds, float64(tv.IO.Delta.IO.WChar) / tv.IO.Seconds, bundle.TargetMember(p.PID), 0})
			}
		}
		for _, h := range files {
			pl, ok := c.Place(tv, h.path)
			if !ok || pl.Overlay == nil {
				continue
			}
			f := content.Finding{
				ID: "overlay-hot-path", Severity: content.Warning, Confidence: content.High, Score: h.rate,
				Title:    fmt.Sprintf("%s is on the overlay root of %s; its data lands in the upper layer on %s", h.path, containerOrProc(p), pl.Device),
				Summary:  fmt.Sprintf("%s writes %s (%.0f writes/s), which lies on an overlayfs mounted at %s: its data is written to %s in the upper layer %s, on %s, the filesystem that also holds the container layers.", window.Name(p), h.path, h.rate, pl.Mount.MountPoint, pl.UpperPath, pl.Overlay.Upper, pl.DescribeDevice()),
				Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: h.path, Mount: pl.Mount.MountPoint, Device: pl.Device},
				Evidence: []content.Evidence{
					{Member: bundle.TargetMember(p.PID) + fmt.Sprintf(" (/proc/%d/mountinfo)", p.PID),
						What: fmt.Sprintf("findmnt -T %s in the process's namespace: %s on %s, type overlay, upperdir=%s, workdir=%s, %d lower layer(s)", h.path, pl.Mount.Source, pl.Mount.MountPoint, pl.Overlay.Upper, pl.Overlay.Work, len(pl.Overlay.Lower))},
					{Member: bundle.HostMember + " (/proc/self/mountinfo)",
						What: fmt.Sprintf("the upper layer is on %s (%s, %d:%d), device %s", pl.HostMount.MountPoint, pl.HostMount.FSType, pl.HostMount.Major, pl.HostMount.Minor, pl.DescribeDevice())},
					{Member: h.source, What: fmt.Sprintf("%.0f writes per second to %s", h.rate, h.path)},
				},
				Mitigations: []content.Mitigation{
					{Horizon: content.ShortTerm, Key: advice.MoveHotDataKey, Subject: pl.Device, Action: "Mount a volume at " + dirOf(h.path), How: "Kubernetes: a hostPath/PVC on a separate disk, or an emptyDir, mounted at " + dirOf(h.path) + "; docker/ctr: -v/--mount; for disposable logs an emptyDir with medium: Memory (tmpfs); " + advice.TmpfsCostWaiting(c, p, h.bytes, h.waiting), Effect: "The writes bypass overlayfs; on a separate disk or tmpfs they also leave the disk shared with the container layers"},
					{Horizon: content.LongTerm, Action: "Keep container root filesystems read-mostly", How: "readOnlyRootFilesystem: true with explicit volumes for the paths that are written", Effect: "No hot data ends up in an upper layer by accident"},
				},
			}
			if p.Container != nil {
				f.Subjects.Container = p.Container.Name
			}
			who, dev := containerOrProc(p), pl.Device
			out = append(out, fileFinding{Finding: f, Mechanism: pl.Overlay.Upper, Calls: int(math.Round(h.rate)), Rate: h.rate, Counted: "writes a second",
				Title: func(files string, _ float64) string {
					return fmt.Sprintf("%s are on the overlay root of %s; their data lands in the upper layer on %s", files, who, dev)
				}})
		}
	}
	return mergePerProcess(out)
}

// containerOrProc names the container of p, or p itself.
func containerOrProc(p *model.Process) string {
	if p.Container != nil {
		return "container " + p.Container.Name
	}
	return fmt.Sprintf("PID %d (%s)", p.PID, p.Comm)
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}
