package rules

import (
	"fmt"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// tmpfsFilling reports a file appended to on a memory filesystem (tmpfs,
// ramfs) fast enough to fill it soon: a log moved to tmpfs waits for no
// device, but every byte stays in memory (Shmem, charged to the writer's
// memory cgroup) until the file is rotated or deleted, and once the
// filesystem is full its writes fail with ENOSPC. The growth is the
// target's bytes handed to write() for a file open with O_APPEND (each
// write extends it), the room its statfs (through the target's root for
// a tmpfs only its mount namespace sees).
var tmpfsFilling = &Rule{ID: "tmpfs-filling",
	Role: content.State, Check: checkTmpfsFilling, FromState: true,
	// No dirty or writeback counters: tmpfs pages are Shmem, never
	// written back; the monitoring watches Shmem and the tmpfs's free
	// bytes (AlertFilesystemFilling).
	Watch: []Watch{AlertFilesystemFilling},
}

// tmpfsFillWarn is how soon a filling memory filesystem is worth a
// warning; under urgentFill it is critical.
const tmpfsFillWarn = 6 * 3600

func checkTmpfsFilling(c *window.Window) []content.Finding {
	var out []content.Finding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil || tv.Summary == nil || tv.Target.Info.Strace == nil || tv.Target.Info.Strace.TracedSeconds <= 0 {
			continue
		}
		appended := map[string]bool{}
		for _, fd := range tv.Target.FDs {
			if fd.Info != nil && fd.Info.Flags.Writable() && fd.Info.Flags.Append() {
				appended[fd.Path] = true
			}
		}
		for _, f := range tv.Summary.Files {
			if !appended[f.Path] || f.Writes == 0 {
				continue
			}
			fstype, mem := c.InMemory(tv, f.Path)
			if !mem {
				continue
			}
			bytesPerSec := c.WriteRate(tv, f) * f.AvgWrite()
			mp, secs, avail := advice.FillSeconds(c, tv, f.Path, bytesPerSec)
			if mp == "" || secs > tmpfsFillWarn {
				continue
			}
			memory := advice.NodeMemoryBound(c)
			if cg := c.Model.MemoryCgroup(p); cg != nil && cg.MemLimit > 0 {
				memory = fmt.Sprintf("its memory limit (%s) counts them, and fills in %s at this rate unless the log is rotated away", prose.Bytes(float64(cg.MemLimit)), advice.SpanText(float64(cg.MemLimit)/bytesPerSec))
			}
			sev := content.Warning
			if secs < advice.UrgentFill {
				sev = content.Critical
			}
			fnd := content.Finding{
				ID: "tmpfs-filling", Severity: sev, Confidence: content.High, Score: 1 / max(secs, 1),
				Title: fmt.Sprintf("%s fills %s (%s, memory) in about %s", window.Name(p), mp, fstype, advice.SpanText(secs)),
				Summary: fmt.Sprintf("%s appends %s/s to %s on %s, a %s: its bytes wait for no device but stay in memory as Shmem until the file is rotated or deleted. At this rate the filesystem's %s left are gone in about %s; then its writes fail with ENOSPC. Meanwhile %s.",
					window.Name(p), prose.Bytes(bytesPerSec), f.Path, mp, fstype, prose.Bytes(avail), advice.SpanText(secs), memory),
				Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: f.Path, Mount: mp},
				Evidence: []content.Evidence{
					{Member: tv.Target.Info.Strace.Member, What: fmt.Sprintf("%d writes of %.0f bytes on average to %s, open with O_APPEND: %s/s at the untraced write rate", f.Writes, f.AvgWrite(), f.Path, prose.Bytes(bytesPerSec)),
						Figures: map[string]float64{FigBytesPerS: bytesPerSec}},
					{Member: bundle.StatfsMember, What: fmt.Sprintf("%s (%s): %s available", mp, fstype, prose.Bytes(avail)),
						Figures: map[string]float64{FigAvailBytes: avail, FigFillS: secs}},
				},
				Mitigations: []content.Mitigation{
					{Horizon: horizonFor(secs), Action: "Rotate or truncate " + f.Path + " before " + mp + " fills",
						How:      fmt.Sprintf("Copy what must be kept, then %s (the writer appends with O_APPEND and goes on at the start); then rotate it by size", advice.InCommand(c, tv, f.Path, "truncate", "-s", "0", f.Path)),
						Commands: pasteable(f.Path, advice.InCommand(c, tv, f.Path, "truncate", "-s", "0", f.Path)),
						Effect:   "Its memory is freed and its writes keep succeeding"},
					{Horizon: content.ShortTerm, Action: "Bound the tmpfs log by size, not by luck",
						How:    fmt.Sprintf("At %s/s an hour of it is %s: rotate often enough that what is kept fits the tmpfs size (an emptyDir's sizeLimit) and the writer's memory limit, or log less", prose.Bytes(bytesPerSec), prose.Bytes(bytesPerSec*3600)),
						Effect: "The log can neither fill the tmpfs nor push the pod towards its memory limit"},
				},
			}
			if p.Container != nil {
				fnd.Subjects.Container = p.Container.Name
			}
			out = append(out, fnd)
		}
	}
	return out
}

// horizonFor is the horizon of a step that must come before something
// runs out in secs.
func horizonFor(secs float64) content.Horizon {
	if secs < 3600 {
		return content.Immediate
	}
	return content.ShortTerm
}
