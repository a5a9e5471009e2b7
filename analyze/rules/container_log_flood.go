package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// containerLogFlood reports a container runtime component — a containerd
// shim, containerd itself, conmon or dockerd — as the node's top writer,
// and names the container behind it: the shim's -id, conmon's -n, or the
// container's name in the log file's path (REFERENCE-IO.md 8). A shim
// copying a container's stdout through a pipe shows wchar and syscw but no
// write_bytes; the file write is then containerd's.
var containerLogFlood = &Rule{ID: "container-log-flood",
	Role: content.Cause, Check: checkContainerLogFlood, CountsCalls: true,
	Watch: []Watch{WatchContainerLog, AlertContainerWrites, AlertFilesystemFilling},
}

func checkContainerLogFlood(c *window.Window) []content.Finding {
	if c.Seconds <= 0 {
		return nil
	}
	// The top runtime component by disk writes, and by write syscalls.
	var byBytes, bySysc *model.ProcIO
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.RuntimeKind() == "" {
			continue
		}
		if byBytes == nil || p.Delta.IO.WriteBytes > byBytes.Delta.IO.WriteBytes {
			byBytes = p
		}
		if bySysc == nil || p.Delta.IO.SyscW > bySysc.Delta.IO.SyscW {
			bySysc = p
		}
	}
	if byBytes == nil {
		return nil
	}
	total := float64(c.UserWriteBytes)
	share := prose.Pct(float64(byBytes.Delta.IO.WriteBytes), total)
	writer := byBytes
	if share < c.Thresholds.DominantShare*100/2 || float64(writer.Delta.IO.WriteBytes)/c.Seconds < c.Thresholds.DominantMinBytesPerSec {
		return nil // runtime components write, but are not what loads the disk
	}
	cont, logPath, how := identifyLogged(c, writer, bySysc)
	if cont == nil {
		return nil
	}
	p := writer.Proc
	sev := content.Warning
	if share >= c.Thresholds.DominantShare*100 {
		sev = content.Critical
	}
	conf, why := content.High, ""
	if logPath == "" {
		conf, why = content.Medium, "the log file itself was not seen open or written (no fd or trace of it)"
	}
	f := content.Finding{
		ID: "container-log-flood", Severity: sev, Confidence: conf, ConfidenceWhy: why, Score: share,
		Title:    fmt.Sprintf("Container %s floods the disk with its log, written by %s", cont.Name, p.Comm),
		Summary:  fmt.Sprintf("%s, the %s of container %s, dirtied %s of page cache for writing (%.0f %% of all processes' write_bytes, %s/s); the bytes are %s's stdout/stderr going to its log file%s.", window.Name(p), p.RuntimeKind(), cont.Name, prose.Bytes(float64(writer.Delta.IO.WriteBytes)), share, prose.Bytes(float64(writer.Delta.IO.WriteBytes)/writer.Seconds), cont.Name, pathSuffix(logPath)),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Container: cont.Name, Pod: cont.Pod, Path: logPath},
		Evidence: []content.Evidence{
			{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
				What:    fmt.Sprintf("/proc/%d/io: write_bytes +%d, wchar +%d in %d write syscalls, rchar +%d in %d reads", p.PID, writer.Delta.IO.WriteBytes, writer.Delta.IO.WChar, writer.Delta.IO.SyscW, writer.Delta.IO.RChar, writer.Delta.IO.SyscR),
				Figures: map[string]float64{FigSharePct: share, FigWriteBytes: float64(writer.Delta.IO.WriteBytes), FigSyscw: float64(writer.Delta.IO.SyscW)}},
			{Member: bundle.ProcTableMember, What: fmt.Sprintf("PID %d: %s", p.PID, window.Cmdline(p))},
			{Member: how.member, What: how.what},
		},
		Mitigations: logMitigations(c, cont, p.RuntimeKind(), logPath, float64(writer.Delta.IO.WChar)/writer.Seconds),
	}
	logCost(c, &f, writer, logPath)
	if mp, secs, _ := advice.FillSeconds(c, c.Target(p.PID), logPath, float64(writer.Delta.IO.WriteBytes)/writer.Seconds); mp != "" && secs < advice.UrgentFill {
		// Minutes from full: every other step comes too late.
		trunc := advice.InCommand(c, c.Target(p.PID), logPath, "truncate", "-s", "0", logPath)
		f.Mitigations = append([]content.Mitigation{{Horizon: content.Immediate, Action: "Truncate or rotate " + logPath + " now",
			How:      fmt.Sprintf("%s fills in about %.0f s at this rate: copy what must be kept, then %s (the writer appends with O_APPEND and goes on at the start; a file renamed or deleted while open keeps filling the disk until its writer reopens it)", mp, secs, trunc),
			Commands: pasteable(logPath, trunc),
			Effect:   mp + " stops filling for now; the steps below keep it from filling again"}}, f.Mitigations...)
	}
	if apps := containerProcs(c, cont.Name, p.PID); len(apps) > 0 {
		var names []string
		for _, a := range apps {
			names = append(names, fmt.Sprintf("PID %d (%s): wchar +%d in %d writes", a.Proc.PID, a.Proc.Comm, a.Delta.IO.WChar, a.Delta.IO.SyscW))
			f.Subjects.PIDs = append(f.Subjects.PIDs, a.Proc.PID)
		}
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
			What: "the container's own processes write to stdout/stderr (a pipe: wchar, no write_bytes): " + strings.Join(names, "; ")})
	}
	if bySysc != nil && bySysc != writer && bySysc.Proc.RuntimeKind() == "containerd-shim" {
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
			What: fmt.Sprintf("%s copies the container's output pipe to containerd: %d write syscalls, wchar +%d, but write_bytes +%d (pipes are not disk)", window.Name(bySysc.Proc), bySysc.Delta.IO.SyscW, bySysc.Delta.IO.WChar, bySysc.Delta.IO.WriteBytes)})
	}
	return []content.Finding{f}
}

type citation struct{ member, what string }

// identifyLogged names the container whose log the runtime component
// writes, and the log file when it can be seen.
func identifyLogged(c *window.Window, writer, bySysc *model.ProcIO) (*model.Container, string, citation) {
	p := writer.Proc
	tv := c.Target(p.PID)
	// The log file: a writable regular file the component has open, or
	// writes in its trace.
	var logPath string
	var fromLog *model.Container
	if tv != nil {
		if tv.Summary != nil {
			for _, f := range tv.Summary.Files {
				if f.Kind == "file" && f.Writes > 0 {
					logPath = f.Path
					break
				}
			}
		}
		if logPath == "" {
			for _, fd := range tv.Target.FDs {
				if fd.Info != nil && fd.Info.Flags.Writable() && strings.HasPrefix(fd.Path, "/") && !strings.HasPrefix(fd.Path, "/dev/") {
					logPath = fd.Path
					if _, ok := model.ContainerFromLogPath(fd.Path); ok {
						break
					}
				}
			}
		}
		if logPath != "" {
			fromLog, _ = c.Model.ContainerOfLog(logPath)
		}
	}
	member := bundle.TargetMember(p.PID)
	switch {
	case p.Serves() != nil:
		cont := p.Serves()
		what := fmt.Sprintf("%s serves container %s (from its arguments: %s)", window.Name(p), cont.Name, cont.Source)
		if logPath != "" {
			what += "; it has " + logPath + " open for writing"
		}
		return cont, logPath, citation{member, what}
	case fromLog != nil:
		return fromLog, logPath, citation{member, fmt.Sprintf("%s writes %s, the log of container %s (%s)", window.Name(p), logPath, fromLog.Name, fromLog.Source)}
	case bySysc != nil && bySysc.Proc.Serves() != nil:
		cont := bySysc.Proc.Serves()
		return cont, logPath, citation{bundle.ProcTableMember, fmt.Sprintf("the shim with the most write syscalls, %s, serves container %s: its output is what %s writes", window.Name(bySysc.Proc), cont.Name, p.Comm)}
	}
	return nil, "", citation{}
}

// subjectContainer is the container a finding about p writing path is
// about, and, for a runtime component, a sentence that says why. For a
// runtime component (dockerd, a shim, conmon) it is the container whose
// log path is written, else the one it serves (a shim's only files are
// its container's output, --log-uri) — its bytes are that container's,
// whoever holds the file — never the cgroup the component itself runs in
// (containerd inside a kind node is in the node's container); for any
// other process, its own container. "" when none.
func subjectContainer(c *window.Window, p *model.Process, path string) (name, why string) {
	if p.RuntimeKind() != "" {
		if ct, ok := c.Model.ContainerOfLog(path); ok {
			return ct.Name, fmt.Sprintf(" It is container %s's log (%s): the bytes are the container's output, which %s writes as it is given.", ct.Name, ct.Source, p.Comm)
		}
		if ct, ok := c.Model.ContainerServedBy(p); ok {
			return ct.Name, fmt.Sprintf(" %s serves container %s (%s): the bytes are the container's output, which it writes as it is given.", p.Comm, ct.Name, ct.Source)
		}
		return "", ""
	}
	if p.Container != nil {
		return p.Container.Name, ""
	}
	return "", ""
}

func pathSuffix(p string) string {
	if p == "" {
		return ""
	}
	return " " + p
}

// containerProcs are the processes of a container other than the runtime.
func containerProcs(c *window.Window, name string, exclude int) []*model.ProcIO {
	var out []*model.ProcIO
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.PID != exclude && p.Proc.Container != nil && p.Proc.Container.Name == name && p.Delta.IO.SyscW > 0 {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Delta.IO.WChar > out[j].Delta.IO.WChar })
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

// logMitigations are about the container's logging, for the runtime that
// writes it.
func logMitigations(c *window.Window, cont *model.Container, runtime, logPath string, bytesPerSec float64) []content.Mitigation {
	n := cont.Name
	cut := "Lower its log level, or sample or disable its per-request (access) log"
	if advice.ContainerRuns(c, n, "nginx") {
		// The bundle shows nginx in the container: its own directives.
		cut += "; for nginx: access_log off, or access_log PATH main buffer=64k flush=5s"
	}
	ms := []content.Mitigation{
		{Horizon: content.Immediate, Action: "Cut " + n + "'s log volume at the source", How: cut, Effect: "The log's write calls, page cache and filesystem use fall as soon as the container is reconfigured"},
		{Horizon: content.ShortTerm, Key: advice.LogBufferKey(n), Action: "Buffer and batch its log writes", How: "Log through a buffered writer (one write per several KiB, not per line), and never sync per line", Effect: "Tens of times fewer write syscalls for the same lines: the runtime's CPU, not the bytes"},
	}
	switch runtime {
	case "containerd", "containerd-shim", "conmon":
		ms = append(ms,
			content.Mitigation{Horizon: content.ShortTerm, Action: "Rotate and cap the container log",
				How: fmt.Sprintf("kubelet: containerLogMaxSize (default 10Mi) and containerLogMaxFiles (5), checked every 10 s (containerLogMonitorInterval): at %s/s a log grows %s between checks, so each file may reach containerLogMaxSize plus that, and containerLogMaxFiles of them must fit in the filesystem's free space; without kubelet, logrotate with copytruncate on the --log-uri file (the shim keeps its descriptor and appends with O_APPEND, so only a copy and truncate rotates it), triggered by size often enough that the copy fits in the free space beside the log; or ctr run --log-uri binary:///path/to/a-batching-logger; nerdctl run --log-driver local (or none)",
					prose.Bytes(bytesPerSec), prose.Bytes(bytesPerSec*10)),
				Effect: "The log cannot fill the filesystem; rotation cost stays bounded"},
		)
		if logPath == "" || !advice.OwnVolume(c, logPath) {
			ms = append(ms, content.Mitigation{Horizon: content.LongTerm, Action: "Put container logs on their own volume", How: "Mount a dedicated disk at /var/log/pods (or the log directory of --log-uri), or ship logs with a sidecar or node agent (fluent-bit tailing the file) rather than growing it on the root disk", Effect: "Log bursts no longer compete with the node's and other containers' IO"})
		}
	case "dockerd":
		ms = append(ms,
			content.Mitigation{Horizon: content.ShortTerm, Action: "Cap the json-file log", How: "docker run --log-opt max-size=10m --log-opt max-file=3 (or in daemon.json)", Effect: "Bounded log size and rotation"},
			content.Mitigation{Horizon: content.LongTerm, Action: "Use a non-blocking log driver or a dedicated volume", How: "--log-driver local or fluentd with --log-opt mode=non-blocking; or /var/lib/docker/containers on its own disk", Effect: "The daemon's log writes stop competing with workloads"})
	}
	// A cgroup limit on the container holds only its own block IO; its
	// log is written by the runtime, so where that is zero a limit
	// contains nothing.
	if advice.ContainerBlockIO(c, cont.Name) > 0 {
		ms = append(ms, content.Mitigation{Horizon: content.LongTerm, Action: "Limit the container's IO as a safety net", How: "io.max (cgroup v2) or blkio throttle (v1) on the container's cgroup; the log file write happens in the runtime's cgroup, so rate-limit the output at the source", Effect: "A future flood is contained"})
	}
	return ms
}

// logCost says what the flood costs now, in kernel terms: write_bytes
// counts pages dirtied, so when the log's device stays idle the cost is
// the page cache and the log filesystem filling (with when), not device
// time.
func logCost(c *window.Window, f *content.Finding, writer *model.ProcIO, logPath string) {
	tv := c.Target(writer.Proc.PID)
	pl, ok := c.Place(tv, logPath)
	if !ok || !advice.DeviceIdle(c, pl.Device) {
		return
	}
	rate := float64(writer.Delta.IO.WriteBytes) / writer.Seconds
	x := c.Devices[pl.Device]
	f.Title = fmt.Sprintf("Container %s's log fills the page cache and %s, written by %s", f.Subjects.Container, pl.HostMount.MountPoint, writer.Proc.Comm)
	what := fmt.Sprintf("its device %s wrote %s/s (%%util %.0f): the pages wait in the page cache", pl.Device, prose.Bytes(x.WkBPS*1024), x.Util)
	for _, s := range []string{advice.DirtyForecast(c, rate), advice.FillForecast(c, tv, logPath, rate)} {
		if s != "" {
			what += "; " + s
		}
	}
	f.Summary += " " + strings.ToUpper(what[:1]) + what[1:] + "."
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/diskstats, /proc/vmstat) and " + bundle.StatfsMember, Ticks: c.TickSpan(), What: what,
		Figures: map[string]float64{FigDeviceWkbPerS: x.WkBPS, FigDirtyRate: rate}})
}

// pasteable is cmd as a step's command when path, which it names, can be
// pasted as it is (advice.Pasteable); none otherwise.
func pasteable(path, cmd string) []string {
	if !advice.Pasteable(path) {
		return nil
	}
	return []string{cmd}
}
