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

// dominantIOProcess reports one process (or one container's processes
// together) doing at least DominantShare of the user processes' disk
// bytes (read_bytes + write_bytes of /proc/PID/io), when the node moves
// enough bytes for a share to matter. Kernel threads are left out: a loop
// device's worker or jbd2 writes on behalf of others.
var dominantIOProcess = &Rule{ID: "dominant-io-process",
	Role: content.Volume, Check: checkDominantIOProcess,
	Deciding: [][]Condition{{
		{Figure: FigSharePct, Threshold: func(t window.Thresholds) float64 { return t.DominantShare * 100 }, Bounded: true, What: "share of the node's disk bytes"},
		deviceShareCondition,
	}},
	Clause: neighbourClause,
	Watch:  []Watch{WatchProcess, AlertContainerWrites},
}

func checkDominantIOProcess(c *window.Window) []content.Finding {
	total := float64(c.UserDiskBytes)
	if c.Seconds <= 0 || total/c.Seconds < c.Thresholds.DominantMinBytesPerSec {
		return nil
	}
	var top *model.ProcIO
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.Kernel {
			continue
		}
		if top == nil || p.DiskBytes() > top.DiskBytes() {
			top = p
		}
	}
	if top != nil && float64(top.DiskBytes()) >= c.Thresholds.DominantShare*total {
		f := dominantProcessFinding(c, top, total)
		neighbour(c, &f)
		swapIns(c, top, &f)
		noDeviceHurts(c, &f)
		return []content.Finding{f}
	}
	// No single process: perhaps one container's processes together.
	byCont := map[string][]*model.ProcIO{}
	for i := range c.Procs {
		p := &c.Procs[i]
		if !p.Proc.Kernel && p.Proc.Container != nil {
			byCont[p.Proc.Container.Name] = append(byCont[p.Proc.Container.Name], p)
		}
	}
	names := make([]string, 0, len(byCont))
	for n := range byCont {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var sum int64
		var pids []int
		for _, p := range byCont[n] {
			sum += p.DiskBytes()
			if p.DiskBytes() > 0 {
				pids = append(pids, p.Proc.PID)
			}
		}
		if float64(sum) < c.Thresholds.DominantShare*total {
			continue
		}
		share := prose.Pct(float64(sum), total)
		f := content.Finding{
			ID: "dominant-io-process", Severity: content.Warning, Confidence: content.High, Score: share,
			Title:    fmt.Sprintf("Container %s moves %.0f %% of all processes' disk bytes", n, share),
			Summary:  fmt.Sprintf("The processes of container %s read and wrote %s (%.0f %% of all processes' disk bytes) over %.0f s.", n, prose.Bytes(float64(sum)), share, c.Seconds),
			Subjects: content.Subjects{PIDs: pids, Container: n},
			Evidence: []content.Evidence{{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
				What:    fmt.Sprintf("%d processes of %s: %s of %s disk bytes (read_bytes+write_bytes)", len(pids), n, prose.Bytes(float64(sum)), prose.Bytes(total)),
				Figures: map[string]float64{FigSharePct: share, FigBytes: float64(sum)}}},
			Mitigations: containerMitigations(c, n, byCont[n]),
		}
		noDeviceHurts(c, &f)
		return []content.Finding{f}
	}
	return nil
}

// noDeviceHurts lowers a dominant finding to info when no device was
// busy enough to hurt (window.Hurting): the loudest process on a node
// whose disks cope is volume, not an incident, and nothing needs capping.
func noDeviceHurts(c *window.Window, f *content.Finding) {
	if f.Severity < content.Warning {
		return
	}
	if why, calm := devicesCope(c); calm {
		f.Severity = content.Info
		f.Summary += " " + why + ", so this volume needs no cap."
		f.Mitigations = nil
	}
}

// devicesCope reports whether no device was busy or slow enough to hurt
// (window.Hurting, or requests or cache flushes waiting over AwaitMS),
// and says so with the busiest device's figures. Without any device's
// figures nothing is known to cope.
func devicesCope(c *window.Window) (string, bool) {
	if len(c.Hurting()) > 0 {
		return "", false
	}
	for _, x := range c.Devices {
		// Slow, if not busy: it may hurt. Flushes count apart: the
		// kernel keeps their time out of await, and a writer that
		// syncs each write waits for one every time.
		if x.Await > c.Thresholds.AwaitMS && x.WPS+x.RPS > 0 || x.FAwait > c.Thresholds.AwaitMS && x.FPS > 0 {
			return "", false
		}
	}
	name, x, ok := c.BusiestDevice()
	if !ok {
		return "", false
	}
	return fmt.Sprintf("No device was hurting: the busiest, %s, was %.0f %% busy with %.1f ms await", name, x.Util, x.Await), true
}

func dominantProcessFinding(c *window.Window, top *model.ProcIO, total float64) content.Finding {
	p := top.Proc
	share := prose.Pct(float64(top.DiskBytes()), total)
	io := top.Delta.IO
	f := content.Finding{
		ID: "dominant-io-process", Severity: content.Warning, Confidence: content.High, Score: share,
		Title:    fmt.Sprintf("%s moves %.0f %% of all processes' disk bytes", window.Name(p), share),
		Summary:  fmt.Sprintf("%s caused %s of writes (write_bytes: pages it dirtied or wrote directly) and read %s from disk, %.0f %% of all processes' disk bytes (%s/s) over %.0f s.", window.Name(p), prose.Bytes(float64(io.WriteBytes)), prose.Bytes(float64(io.ReadBytes)), share, prose.Bytes(float64(top.DiskBytes())/top.Seconds), c.Seconds),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p)},
		Evidence: []content.Evidence{
			{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
				What: fmt.Sprintf("/proc/%d/io over %.1f s: write_bytes +%d, read_bytes +%d, wchar +%d, rchar +%d, syscw +%d, syscr +%d, cancelled_write_bytes +%d",
					p.PID, top.Seconds, io.WriteBytes, io.ReadBytes, io.WChar, io.RChar, io.SyscW, io.SyscR, io.CancelledWriteBytes),
				Figures: map[string]float64{FigSharePct: share, FigWriteBytes: float64(io.WriteBytes), FigReadBytes: float64(io.ReadBytes), FigWchar: float64(io.WChar), FigSyscw: float64(io.SyscW)}},
			{Member: bundle.ProcTableMember, What: fmt.Sprintf("PID %d: %s (parent %d, uid %d)", p.PID, window.Cmdline(p), p.PPID, p.UID)},
		},
	}
	if p.Container != nil {
		f.Subjects.Container = p.Container.Name
		f.Subjects.Pod = p.Container.Pod
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.ProcTableMember + " (cgroup)", What: fmt.Sprintf("it belongs to container %s (found by %s)", p.Container.Name, p.Container.Source)})
	}
	if top.Started {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.ProcTableMember + " (stat)", What: "it started during the capture; its counters are counted from zero"})
	}
	if k := p.RuntimeKind(); k != "" {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.ProcTableMember, What: "it is a container runtime component (" + k + "): the bytes are a container's output, see container-log-flood"})
	}
	dev, mode := advice.WriteMode(c, p)
	noImpact(c, &f, top, dev, mode)
	if m, ok := advice.SlowDown(c, p, dev); ok {
		f.Mitigations = append(f.Mitigations, m)
	}
	advice.RuledOut(c, &f, p, dev)
	switch {
	case p.RuntimeKind() != "":
		// Its bytes are a container's log: container-log-flood advises.
	case mode == "reads":
		// A scan: its volume is what it reads; metadata-scan advises.
	case mode == "direct" && io.SyscW > 0 && io.WChar/io.SyscW >= 64<<10:
		// Already large direct writes without syncs: nothing to batch.
	case mode == "buffered" && advice.OwnRequestsDominate(c, p, dev):
		// Its device time is its own reads (a copy's source): O_DIRECT
		// on its writes would not relieve the device; its IO priority
		// reaches its reads (IONice).
	case mode == "buffered":
		f.Mitigations = append(f.Mitigations, content.Mitigation{Horizon: content.ShortTerm, Key: advice.BulkWriterKey, Action: "Write it without flooding the page cache", How: bufferedSlowDown(c), Effect: "Its pages are written as it goes instead of piling up as dirty memory that writeback, and every writer paced by it, must work through later"})
	default:
		f.Mitigations = append(f.Mitigations, content.Mitigation{Horizon: content.ShortTerm, Key: advice.BufferKey(p), Action: "Reduce or batch what it writes", How: "Larger writes and fewer syncs; see the findings on its write pattern", Effect: "Fewer, larger writes: the same data at a fraction of the device time"})
	}
	return f
}

// containerMitigations are the steps for a container that dominates the
// node's IO; its cgroup is capped only where a limit can work.
func containerMitigations(c *window.Window, name string, procs []*model.ProcIO) []content.Mitigation {
	var ms []content.Mitigation
	for _, p := range procs {
		dev, _ := advice.WriteMode(c, p.Proc)
		if how, _ := advice.IOLimit(c, p.Proc, dev); how != "" && advice.Copes(c, dev) == "" && advice.ContainerBlockIO(c, name) > 0 {
			ms = append(ms, content.Mitigation{Horizon: content.Immediate, Action: "Throttle container " + name, How: how, Effect: "Caps its share; the rest of the node recovers"})
			break
		}
	}
	return append(ms, content.Mitigation{Horizon: content.ShortTerm, Action: "Give " + name + " its own volume", How: "Mount a dedicated volume for its write-heavy paths", Effect: "Its IO no longer queues behind or in front of others'"})
}

// neighbour lowers a dominant finding to info when a device is saturated
// and the process holds little of its time: the loudest process on the
// node is then a neighbour of the incident, not its cause.
func neighbour(c *window.Window, f *content.Finding) {
	sat := c.Saturated()
	if len(sat) == 0 || len(f.Subjects.PIDs) == 0 || c.DeviceTimes[sat[0]] == nil {
		return
	}
	// Each share once: the processes of one application hold one.
	var held float64
	seen := map[*model.Share]bool{}
	for _, pid := range f.Subjects.PIDs {
		if s := c.ShareOf(pid, sat[0]); s != nil && !seen[s] {
			seen[s] = true
			held += c.DeviceTimes[sat[0]].Fraction(s)
		}
	}
	if held*100 >= c.Thresholds.DeviceSharePct {
		return
	}
	f.Severity, f.Role = content.Info, content.Neighbour
	f.Subjects.Device = sat[0]
	f.Title = neighbourPrefix + f.Title
	if waited(c, f.Subjects.PIDs, sat[0]) {
		f.Summary += fmt.Sprintf(" It holds %.0f %% of the time of %s, the saturated device: its requests there cost the device little and mostly waited behind others', so it suffers the incident rather than causes it (see io-victims).", held*100, sat[0])
	} else {
		f.Summary += fmt.Sprintf(" It holds %.0f %% of the time of %s, the saturated device: its volume lands elsewhere, so it is a neighbour of the incident, not its cause.", held*100, sat[0])
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.DeviceTimeSource(), What: fmt.Sprintf("its share of %s's time: %.0f %%", sat[0], held*100),
		Figures: map[string]float64{FigDeviceSharePct: held * 100}})
}

// noImpact lowers a dominant finding to info when its writes are buffered
// and their device stayed idle: write_bytes counts pages dirtied, so the
// volume is in the page cache, not on the device — a cost in memory now,
// with writeback to come (when, it says), not an IO problem yet.
func noImpact(c *window.Window, f *content.Finding, top *model.ProcIO, dev, mode string) {
	if dev == "" || mode != "buffered" || !advice.DeviceIdle(c, dev) || top.Delta.IO.WriteBytes <= top.Delta.IO.ReadBytes {
		return // (its volume is what it reads: a reader's file is not where its bytes go)
	}
	x := c.Devices[dev]
	rate := float64(top.Delta.IO.WriteBytes) / top.Seconds
	f.Severity = content.Info
	f.Title = fmt.Sprintf("%s dirties %s/s of page cache; its device %s is not busy", window.Name(top.Proc), prose.Bytes(rate), dev)
	what := fmt.Sprintf("its writes are buffered, and write_bytes counts the pages it dirtied; %s kept up without being busy (it wrote %s/s at %%util %.0f, await %.1f ms)", dev, prose.Bytes(x.WkBPS*1024), x.Util, x.Await)
	if x.WkBPS*1024 < rate/2 {
		what = fmt.Sprintf("its writes are buffered, and write_bytes counts the pages it dirtied: %s wrote only %s/s (%%util %.0f, await %.1f ms), the rest waits in the page cache for writeback", dev, prose.Bytes(x.WkBPS*1024), x.Util, x.Await)
		if fc := advice.DirtyForecast(c, rate); fc != "" {
			what += "; " + fc
		}
	}
	f.Summary += " " + strings.ToUpper(what[:1]) + what[1:] + "."
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/diskstats, /proc/vmstat)", Ticks: c.TickSpan(), What: what,
		Figures: map[string]float64{FigDeviceUtilPct: x.Util, FigDirtyRate: rate}})
}

// swapIns lowers a dominant finding to info when the process's disk
// reads are its swap-ins: a process that takes major faults while the
// node reads swap is charged read_bytes for the pages swapped back in
// (with readahead, more than it faulted on). Its volume is then the
// symptom of its memory, which swap-io explains; writing less would not
// help it.
func swapIns(c *window.Window, p *model.ProcIO, f *content.Finding) {
	pages, ok := c.VmstatDelta("pswpin")
	if !ok || p.Delta.MajFlt == 0 || p.Delta.IO.ReadBytes <= p.Delta.IO.WriteBytes {
		return
	}
	swapIn := float64(pages) * c.PageSize()
	if swapIn < 0.5*float64(p.Delta.IO.ReadBytes) {
		return
	}
	f.Severity = content.Info
	f.Summary += fmt.Sprintf(" Its reads are swap-ins: it took %d major faults while the node read %s back from swap (pswpin): see swap-io.", p.Delta.MajFlt, prose.Bytes(swapIn))
	f.Mitigations = nil
}

// waited reports whether the processes' own requests on dev waited
// longer than they held the device (block trace only).
func waited(c *window.Window, pids []int, dev string) bool {
	dt := c.DeviceTimes[dev]
	if dt == nil || c.DeviceTimesEstimated {
		return false
	}
	var wait, held float64
	for _, pid := range pids {
		if s := dt.Find(pid); s != nil {
			wait += s.WaitNS
			held += s.DirectNS
		}
	}
	return wait > 0 && wait > held
}

// neighbourPrefix starts the title of a loud process that is not the
// cause.
const neighbourPrefix = "Neighbour: "

// neighbourClause names, in the verdict, a loud process that holds
// little of the saturated device: who it is, and how little it holds.
func neighbourClause(f *content.Finding) string {
	if f.Role != content.Neighbour {
		return ""
	}
	share, _ := f.Figure(FigDeviceSharePct)
	return fmt.Sprintf(" %s. It holds %.0f %% of %s's time: a neighbour, not the cause.", strings.TrimPrefix(f.Title, neighbourPrefix), share, f.Subjects.Device)
}
