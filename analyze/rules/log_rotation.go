package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// logRotation reports a log rotated by copy and truncate, and the
// compression of its copy: a process reading a log while writing its
// rotated copy (app.log → app.log.1, app.log-20261203) when another
// process holds the log open for writing or the copier truncates it; a
// process reading a rotated copy and writing it compressed (app.log.1 →
// app.log.1.gz). Recognised from the trace and the descriptors (paths,
// reads and writes, ftruncate or O_TRUNC, fdinfo flags), never from a
// program's name: whatever copies and compresses, the disk pays for
// reading the whole log and writing it again.
var logRotation = &Rule{ID: "log-rotation", Role: content.Cause, Check: checkLogRotation,
	Watch: []Watch{WatchProcess}}

// rotationSuffix is what rotation appends to a log's name: a generation
// (.1, .12) or a date (logrotate's dateext -20261203, .2026-12-03,
// -2026-12-03-06).
var rotationSuffix = regexp.MustCompile(`^[.-](?:\d{1,3}|\d{8}(?:\d{2,6})?|\d{4}-\d{2}-\d{2}(?:[-_T.]\d{2}(?::?\d{2}){0,2})?)$`)

// compressedSuffixes are the compressors' extensions.
var compressedSuffixes = []string{".gz", ".xz", ".zst", ".bz2", ".lz4", ".lzma", ".Z"}

// rotatedCopy reports a name that is a rotation of live.
func rotatedCopy(name, live string) bool {
	rest, ok := strings.CutPrefix(name, live)
	return ok && rotationSuffix.MatchString(rest)
}

// rotatedName reports a name with a rotation suffix (of some log).
func rotatedName(name string) bool {
	for i := len(name) - 1; i > 0; i-- {
		if (name[i] == '.' || name[i] == '-') && name[i-1] != '/' && rotationSuffix.MatchString(name[i:]) {
			return true
		}
	}
	return false
}

// compressedOf is the file a compressed name holds ("app.log.1" for
// "app.log.1.gz"); false when the name has no compressor's extension.
func compressedOf(name string) (string, bool) {
	for _, s := range compressedSuffixes {
		if base, ok := strings.CutSuffix(name, s); ok && base != "" {
			return base, true
		}
	}
	return "", false
}

// accModeMask is the access mode in fdinfo's flags (O_ACCMODE).
const accModeMask = 3

// fileUse is what a target did to one file: read it, wrote it (strace
// bytes, or an open descriptor when untraced).
type fileUse struct {
	path                  string
	read, written         bool
	readBytes, writeBytes int64
	// pos is the offset of its descriptor on the file (fdinfo), -1 when
	// it holds none.
	pos int64
}

// uses lists a target's files by how it used them, from its trace when
// there is one, else from its descriptors (read-only, or open for
// writing).
func uses(tv *window.TargetView) []fileUse {
	byPath := map[string]*fileUse{}
	get := func(p string) *fileUse {
		if byPath[p] == nil {
			byPath[p] = &fileUse{path: p, pos: -1}
		}
		return byPath[p]
	}
	if tv.Summary != nil {
		for _, f := range tv.Summary.Files {
			if f.Kind != "file" {
				continue
			}
			u := get(f.Path)
			u.read, u.readBytes = u.read || f.Reads > 0, u.readBytes+f.ReadBytes
			u.written, u.writeBytes = u.written || f.Writes > 0, u.writeBytes+f.WriteBytes
		}
	}
	for _, fd := range tv.Target.FDs {
		if fd.Info == nil || !strings.HasPrefix(fd.Path, "/") {
			continue
		}
		// O_RDONLY reads, O_WRONLY writes, O_RDWR may do both: a copier
		// opens the live log O_RDWR to truncate it after the copy.
		u := get(fd.Path)
		u.pos = fd.Info.Pos
		switch uint64(fd.Info.Flags) & accModeMask {
		case 0:
			u.read = true
		case 1:
			u.written = true
		case 2:
			u.read, u.written = true, true
		}
	}
	out := make([]fileUse, 0, len(byPath))
	for _, u := range byPath {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func checkLogRotation(c *window.Window) []content.Finding {
	var out []content.Finding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil || p.Kernel {
			continue
		}
		fs := uses(tv)
		for _, src := range fs {
			for _, dst := range fs {
				switch {
				case src.read && dst.written && rotatedCopy(dst.path, src.path) && copying(src, dst):
					out = append(out, rotationCopy(c, tv, src, dst))
				case src.read && dst.written && rotatedName(src.path) && compressedBase(dst.path) == src.path:
					out = append(out, rotationCompress(c, tv, src, dst))
				}
			}
		}
	}
	return out
}

// copying reports a process copying src into dst, by what a copy does
// whatever program does it: the bytes it read from src and wrote to dst
// in the trace are alike (within a factor of two), or its descriptors'
// offsets on them are (the write's a buffer behind the read's). A
// program that merely has both open (a database's segment files data
// and data.1) is not copying one into the other.
func copying(src, dst fileUse) bool {
	if src.readBytes > 0 && dst.writeBytes > 0 {
		r := float64(dst.writeBytes) / float64(src.readBytes)
		return r >= 0.5 && r <= 2
	}
	const buffer = 16 << 20
	return src.pos > 0 && dst.pos > 0 && src.pos >= dst.pos && src.pos-dst.pos <= buffer
}

// compressedBase is compressedOf's file, "" for a name with no
// compressor's extension.
func compressedBase(name string) string {
	base, _ := compressedOf(name)
	return base
}

// liveWriters are the other targets holding path open for writing, and
// whether each appends (O_APPEND: a truncate under it is safe for the
// file's integrity, not for the lines written meanwhile).
func liveWriters(c *window.Window, path string, copier int) (names []string, appending bool, member string) {
	appending = true
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil || p.PID == copier {
			continue
		}
		for _, fd := range tv.Target.FDs {
			if fd.Path != path || fd.Info == nil || !fd.Info.Flags.Writable() {
				continue
			}
			how := "for writing"
			if fd.Info.Flags.Append() {
				how = "for appending (O_APPEND)"
			} else {
				appending = false
			}
			names = append(names, fmt.Sprintf("%s holds it open %s (fd %d)", window.Name(p), how, fd.Num))
			if member == "" {
				member = bundle.TargetMember(p.PID) + fmt.Sprintf(" (/proc/%d/fdinfo/%d)", p.PID, fd.Num)
			}
			break
		}
	}
	return names, appending, member
}

// rotationCopy is the finding about a copy of a log into its rotated
// name. Another process holding the log open for writing, or the copier
// truncating it, shows the copy is of a live log (copytruncate); without
// either (the writer was no target, the truncate came after the trace)
// the copy is a rotation's all the same, and the finding says what the
// bundle could not show.
func rotationCopy(c *window.Window, tv *window.TargetView, src, dst fileUse) content.Finding {
	p := tv.Target.Process
	writers, appending, member := liveWriters(c, src.path, p.PID)
	truncs := 0
	if tv.Summary != nil {
		truncs = tv.Summary.Truncated[src.path]
	}
	live := len(writers) > 0 || truncs > 0
	f := content.Finding{ID: "log-rotation", Severity: content.Info, Confidence: content.High,
		Title:    fmt.Sprintf("%s copies the log %s into %s to rotate it", window.Name(p), src.path, dst.path),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: src.path},
	}
	if live {
		f.Title = fmt.Sprintf("%s copies the live log %s into %s to rotate it (copy and truncate)", window.Name(p), src.path, dst.path)
	} else {
		f.Confidence, f.ConfidenceWhy = content.Medium, "no other target held the log open and no truncate was traced: that the log is live (copytruncate) rests on the rotated name alone"
	}
	parts := []string{fmt.Sprintf("%s reads %s and writes its rotated copy %s", window.Name(p), src.path, dst.path)}
	if len(writers) > 0 {
		parts = append(parts, "while "+prose.JoinAnd(writers))
		f.Evidence = append(f.Evidence, content.Evidence{Member: member, What: strings.Join(writers, "; ")})
	}
	if live {
		f.Summary = strings.Join(parts, " ") + ": a log rotation by copy and truncate, which reads the whole log from the disk and writes it again."
	} else {
		f.Summary = strings.Join(parts, " ") + ": a log rotation by copy (logrotate's copytruncate or copy, or a script's cp), which reads the whole log from the disk and writes it again."
	}
	if tv.Summary != nil && tv.Target.Info.Strace != nil && (src.readBytes > 0 || dst.writeBytes > 0) {
		secs := tv.Target.Info.Strace.TracedSeconds
		f.Evidence = append(f.Evidence, content.Evidence{Member: tv.Target.Info.Strace.Member,
			What:    fmt.Sprintf("strace over %.1f s: %s read from %s, %s written to %s", secs, prose.Bytes(float64(src.readBytes)), src.path, prose.Bytes(float64(dst.writeBytes)), dst.path),
			Figures: map[string]float64{FigCopyReadBytes: float64(src.readBytes), FigCopyWriteBytes: float64(dst.writeBytes)}})
	}
	if truncs > 0 {
		f.Summary += fmt.Sprintf(" It truncated %s %d time(s) (strace): lines the writer appended between the end of the copy and the truncate are lost.", src.path, truncs)
		f.Evidence = append(f.Evidence, content.Evidence{Member: tv.Target.Info.Strace.Member,
			What: fmt.Sprintf("%d call(s) cutting %s to nothing (ftruncate or truncate to 0, or an open with O_TRUNC)", truncs, src.path)})
	} else if live && !appending {
		f.Summary += " Its writer does not append (no O_APPEND): after the truncate it goes on writing at its old offset, leaving a hole as large as the log was."
	}
	deviceCost(c, tv, src.path, &f)
	f.Mitigations = rotationMitigations(c, tv, src.path)
	if p.Container != nil {
		f.Subjects.Container = p.Container.Name
	}
	return f
}

// rotationCompress is the finding about the compression of a rotated
// copy.
func rotationCompress(c *window.Window, tv *window.TargetView, src, dst fileUse) content.Finding {
	p := tv.Target.Process
	f := content.Finding{ID: "log-rotation", Severity: content.Info, Confidence: content.High,
		Title:    fmt.Sprintf("%s compresses the rotated log %s into %s", window.Name(p), src.path, dst.path),
		Summary:  fmt.Sprintf("%s reads the rotated log %s and writes it compressed to %s: the second half of a rotation, which reads the copy again (from the page cache if it is still there, else from the disk).", window.Name(p), src.path, dst.path),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: src.path},
	}
	if tv.Summary != nil && tv.Target.Info.Strace != nil {
		f.Evidence = append(f.Evidence, content.Evidence{Member: tv.Target.Info.Strace.Member,
			What: fmt.Sprintf("strace over %.1f s: %s read from %s, %s written to %s", tv.Target.Info.Strace.TracedSeconds, prose.Bytes(float64(src.readBytes)), src.path, prose.Bytes(float64(dst.writeBytes)), dst.path)})
	}
	deviceCost(c, tv, src.path, &f)
	f.Mitigations = []content.Mitigation{compressLater, rotationPriority(c, tv, src.path)}
	if p.Container != nil {
		f.Subjects.Container = p.Container.Name
	}
	return f
}

// deviceCost says what part of the log's device the rotation holds, and
// makes the finding a warning when it holds a saturated device.
func deviceCost(c *window.Window, tv *window.TargetView, path string, f *content.Finding) {
	pl, ok := c.Place(tv, path)
	if !ok {
		return
	}
	f.Subjects.Device = pl.Device
	pid := tv.Target.Process.PID
	share := c.DeviceShare(pid, pl.Device)
	if share <= 0 {
		return
	}
	f.Score = share
	how := window.ShareHow(c.DeviceTimes[pl.Device], c.ShareOf(pid, pl.Device))
	f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.BlockTraceMember,
		What:    fmt.Sprintf("it holds %.0f %% of %s's time%s", share*100, pl.Device, how),
		Figures: map[string]float64{FigDeviceSharePct: share * 100}})
	if dev, _, holds := c.HoldsSaturated(pid); holds && dev == pl.Device {
		f.Severity = content.Warning
		f.Summary += fmt.Sprintf(" It holds %.0f %% of %s's time, which is saturated: every other request on %s queues behind the rotation's.", share*100, pl.Device, pl.Device)
	}
}

// compressLater is how to take compression out of the busy hours.
var compressLater = content.Mitigation{Horizon: content.ShortTerm, Action: "Compress rotated logs later, off-peak",
	How:    "logrotate: delaycompress (the copy is compressed at the next rotation, not right after the copy) and the rotation run at a quiet hour; or compresscmd zstd with compressoptions -T1 -3, compressext .zst and uncompresscmd unzstd (less CPU than logrotate's default gzip for the same data)",
	Effect: "The copy and its compression no longer hit the disk back to back"}

// rotationMitigations are an SRE's remedies for a copy-and-truncate
// rotation: rename and reopen, a lower priority, smaller rotations.
func rotationMitigations(c *window.Window, tv *window.TargetView, path string) []content.Mitigation {
	return []content.Mitigation{
		{Horizon: content.ShortTerm, Action: "Rotate " + path + " by rename and reopen instead of copytruncate",
			How:    "logrotate: drop copytruncate (its default create mode renames the log, which copies nothing) and make the writer reopen it in postrotate with a signal it handles (SIGHUP or SIGUSR1, whichever it reopens its log on, sent to its PID or with systemctl kill's --signal for its unit), or use a logging library that reopens its file when it is renamed",
			Effect: "A rotation is a rename, one metadata update, instead of reading and writing the whole log; and no lines are lost between the copy and the truncate"},
		rotationPriority(c, tv, path),
		{Horizon: content.ShortTerm, Action: "Rotate smaller and more often",
			How:    "logrotate: maxsize 100M (with daily, or size alone) and run it hourly (a systemd timer or cron.hourly), so that each rotation copies a fraction of what a daily one does",
			Effect: "Each rotation's burst is short enough for the other IO on the disk to ride out"},
		compressLater,
	}
}

// rotationPriority is how to lower the rotation job's priority on this
// device: its reads of the log carry the IO priority where the scheduler
// honours it (bfq, mq-deadline); its buffered writes go through writeback,
// which does not.
func rotationPriority(c *window.Window, tv *window.TargetView, path string) content.Mitigation {
	pid := tv.Target.Process.PID
	m := content.Mitigation{Horizon: content.Immediate, Action: "Run the rotation job at idle IO and CPU priority",
		How:      fmt.Sprintf("now: ionice -c3 -p %d (the running copy); for the next runs, %s in front of the job's command, or IOSchedulingClass=idle and Nice=19 in its systemd unit", pid, idlePrefix),
		Commands: []string{fmt.Sprintf("ionice -c3 -p %d", pid), idlePrefix},
		Effect:   "Its reads of the log wait for the disk's idle time instead of competing with the services"}
	pl, ok := c.Place(tv, path)
	if !ok {
		return m
	}
	if b := c.Model.Blocks[pl.Device]; b != nil {
		switch b.Scheduler {
		case "bfq", "mq-deadline":
			m.How += fmt.Sprintf(" (the %s scheduler of %s honours IO priorities; the copy's writes go through writeback, which does not carry them)", b.Scheduler, pl.Device)
		case "":
		default:
			m.How += fmt.Sprintf("; but %s's scheduler is %s, which ignores IO priorities; to switch it: echo mq-deadline > /sys/block/%s/queue/scheduler (or cap the job's bandwidth instead: IOReadBandwidthMax=/dev/%s 10M in its unit, with the io controller on cgroup v2)", pl.Device, b.Scheduler, pl.Device, pl.Device)
		}
	}
	return m
}

// idlePrefix runs the command written after it at idle IO priority and
// the lowest CPU priority: a job's prefix, pasted in front of it.
const idlePrefix = "ionice -c3 nice -n19"
