package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// FigSyncCallsPerS is a sync caller's sync() and syncfs() calls a second.
const FigSyncCallsPerS = "sync_calls_per_s"

// syncCaller reports a process that calls sync() or syncfs() often: each
// call makes the flushers write back every dirty page of the filesystem
// (sync: of every filesystem) now, has the filesystem commit its
// metadata (->sync_fs: a journal commit, a log force), and waits for it
// all, so the device's time goes to everyone's dirty pages on the
// caller's schedule and the writers stall behind the commits. Evidence:
// the writeback work it queued (writeback_queue, reason=sync), the
// flushers' passes that did it and the requests in them (whose pages
// they were), the calls in strace. A short-lived sync(1) run by an agent
// is charged to the agent (model.SyncAgents).
var syncCaller = &Rule{ID: "sync-caller",
	Role: content.Cause, Check: checkSyncCaller, CountsCalls: true,
	Deciding: [][]Condition{{
		{Figure: FigSyncCallsPerS, Threshold: func(t window.Thresholds) float64 { return t.SyncAllMinPerSec }, What: "sync calls a second"},
		deviceShareCondition,
	}},
	Shows:  Syncs,
	Clause: func(f *content.Finding) string { return " " + f.Title + "." },
	Watch:  []Watch{WatchProcess, AlertSyncStorm},
}

func checkSyncCaller(c *window.Window) []content.Finding {
	m := c.Model
	bt := m.BlockTrace
	if bt == nil || c.DeviceTimesEstimated {
		return nil
	}
	secs := bt.Seconds()
	if secs <= 0 {
		return nil
	}
	var out []content.Finding
	for _, a := range m.SyncAgents() {
		dev := agentDevice(c, a)
		if dev == "" {
			continue
		}
		rate := float64(a.Calls) / secs
		dt := c.DeviceTimes[dev]
		s := dt.Find(a.Task.PID)
		if rate < c.Thresholds.SyncAllMinPerSec && dt.Fraction(s)*100 < c.Thresholds.DeviceSharePct {
			continue
		}
		out = append(out, syncCallerFinding(c, a, dev, rate, s))
	}
	return out
}

// agentDevice is the device whose time a sync agent holds the most of
// ("" when it holds none): where its calls cost.
func agentDevice(c *window.Window, a model.SyncAgent) string {
	names := make([]string, 0, len(c.DeviceTimes))
	for d := range c.DeviceTimes {
		names = append(names, d)
	}
	sort.Strings(names)
	best, bestFrac := "", 0.0
	for _, d := range names {
		dt := c.DeviceTimes[d]
		if s := dt.Find(a.Task.PID); s != nil && dt.Fraction(s) > bestFrac {
			best, bestFrac = d, dt.Fraction(s)
		}
	}
	return best
}

func syncCallerFinding(c *window.Window, a model.SyncAgent, dev string, rate float64, s *model.Share) content.Finding {
	dt := c.DeviceTimes[dev]
	name := agentName(c, a)
	call := syncKind(c, a)
	j := model.JournalOf(c.Model.FSTypeOn(dev))
	f := content.Finding{
		ID: "sync-caller", Severity: content.Warning, Confidence: content.High, Score: rate,
		Title:    fmt.Sprintf("%s calls %s %.1f times a second: each forces every dirty page on %s out, and %s, on its schedule", name, call, rate, dev, j.SyncFSNoun),
		Subjects: content.Subjects{PIDs: []int{a.Task.PID}, Device: dev},
	}
	if p := c.ByPID[a.Task.PID]; p != nil {
		f.Subjects.Command = window.Cmdline(p.Proc)
		if p.Proc.Container != nil {
			f.Subjects.Container = p.Proc.Container.Name
		}
	}
	who := "it"
	if len(a.Callers) > 1 || (len(a.Callers) == 1 && a.Callers[0] != a.Task) {
		who = fmt.Sprintf("the %d short-lived %s processes it ran", len(a.Callers), a.Callers[0].Comm)
	}
	f.Summary = fmt.Sprintf("%s called %s %d times in %.1f s, asking each time for writeback of whole filesystems (%s did: writeback work queued with reason=sync, as sync() and syncfs() queue it). Each call makes the flushers write every dirty page of the filesystem at once, whoever dirtied it, then %s and waits for all of it: the device writes everyone's data in bursts on the caller's schedule instead of in the background.",
		prose.Sentence(name), call, a.Calls, dt.Seconds, who, j.SyncFS)
	waits := writersWaits(c, s)
	if waits != "" {
		f.Summary += " The writers whose pages it forces out wait for it: " + waits + "."
	} else {
		// Writers that dirty pages and never wait for them are not
		// slowed: the stalls are the caller's own waits.
		f.Summary += " No writer whose pages it forced out was seen waiting: the waits are its own."
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.BlockTraceMember,
		What:    fmt.Sprintf("writeback_queue reason=sync (the writeback sync() and syncfs() queue for each filesystem) from %s: %d calls in %.1f s, %.1f a second", callerList(a.Callers), a.Calls, dt.Seconds, rate),
		Figures: map[string]float64{FigSyncCallsPerS: rate, FigSyncCalls: float64(a.Calls)}})
	if s != nil && dt.BusyNS > 0 {
		forced := s.ForcedNS / dt.BusyNS * 100
		what := fmt.Sprintf("it holds %.0f %% of %s's time%s", dt.Fraction(s)*100, dev, window.ShareHow(dt, s))
		if whose := forcedOf(c, s, dt); whose != "" {
			what += "; the pages it forced out were " + whose
		}
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.BlockTraceMember, What: what,
			Figures: map[string]float64{FigDeviceSharePct: dt.Fraction(s) * 100, FigForcedPct: forced}})
		if forced >= 1 {
			f.Summary += fmt.Sprintf(" In the block trace %.0f %% of %s's time was writeback done inside its sync passes", forced, dev)
			if whose := forcedOf(c, s, dt); whose != "" {
				f.Summary += ": " + whose
			}
			f.Summary += "."
		}
	}
	if short := deviceShort(c, s, dev); short != "" {
		f.Summary += " " + short
	}
	if e, ok := tracedSyncs(c, a); ok {
		f.Evidence = append(f.Evidence, e)
		if us, _ := e.Figures[FigSyncAvgUS]; us > 0 {
			f.Summary += fmt.Sprintf(" Its traced calls each waited %s for that.", model.FormatUS(us))
		}
	}
	if waits != "" {
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/wchan) and " + bundle.BlockTraceMember + " (balance_dirty_pages)", Ticks: c.TickSpan(), What: "the writers whose pages it forced out waited: " + waits})
	}
	f.Mitigations = syncCallerMitigations(c, a, call, dev, waits != "")
	return f
}

// agentName names a sync agent: its process, or the task as the trace
// named it.
func agentName(c *window.Window, a model.SyncAgent) string {
	if p := c.ByPID[a.Task.PID]; p != nil && p.Proc.Comm == a.Task.Comm {
		return window.Name(p.Proc)
	}
	return fmt.Sprintf("PID %d (%s)", a.Task.PID, a.Task.Comm)
}

// syncKind says which call an agent makes, from its traced calls, else
// from the work they queued: sync() wakes every flusher or queues work
// for several filesystems, syncfs() first queues a pass that does not
// wait.
func syncKind(c *window.Window, a model.SyncAgent) string {
	syncs, syncfs := 0, 0
	for _, tv := range c.Targets {
		if tv.Summary == nil || tv.Summary.SyncAll == nil || !agentTraced(a, tv) {
			continue
		}
		syncs += tv.Summary.SyncAll.Sync
		syncfs += tv.Summary.SyncAll.Syncfs
	}
	switch {
	case syncfs > 0 && syncs == 0:
		return "syncfs()"
	case syncs > 0 && syncfs == 0:
		return "sync()"
	case syncs > 0:
		return "sync() and syncfs()"
	}
	switch all := a.MaxFilesystems > 1 || a.WakesAll; {
	case all && a.Syncfs:
		return "sync() and syncfs()"
	case all:
		return "sync()"
	case a.Syncfs:
		return "syncfs()"
	}
	return "sync() or syncfs()"
}

// agentTraced reports a target that is the agent or one of its callers.
func agentTraced(a model.SyncAgent, tv *window.TargetView) bool {
	pid := tv.Target.Info.PID
	if pid == a.Task.PID {
		return true
	}
	for _, t := range a.Callers {
		if t.PID == pid {
			return true
		}
	}
	return false
}

// callerList names the callers: one, or how many processes of a name.
func callerList(ts []model.Task) string {
	if len(ts) == 1 {
		return fmt.Sprintf("PID %d (%s)", ts[0].PID, ts[0].Comm)
	}
	pids := make([]int, 0, len(ts))
	for _, t := range ts {
		pids = append(pids, t.PID)
	}
	if len(pids) > 6 {
		return fmt.Sprintf("%d %s processes (PID %s, …)", len(ts), ts[0].Comm, prose.JoinInts(pids[:6]))
	}
	return fmt.Sprintf("%d %s processes (PID %s)", len(ts), ts[0].Comm, prose.JoinInts(pids))
}

// forcedOf says whose pages a sync caller forced out, by the share of
// the device's time each producer's pages held, largest first.
func forcedOf(c *window.Window, s *model.Share, dt *model.DeviceTime) string {
	type part struct {
		t  model.Task
		ns float64
	}
	var parts []part
	for t, ns := range s.ForcedOf {
		parts = append(parts, part{t, ns})
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].ns != parts[j].ns {
			return parts[i].ns > parts[j].ns
		}
		return parts[i].t.PID < parts[j].t.PID
	})
	var out []string
	for i, p := range parts {
		if i == 4 || p.ns/dt.BusyNS < 0.005 {
			break
		}
		who := fmt.Sprintf("PID %d (%s)", p.t.PID, p.t.Comm)
		if p.t.PID == 0 {
			who = p.t.Comm + " (kernel)"
		} else if pio := c.ByPID[p.t.PID]; pio != nil {
			who = window.Name(pio.Proc)
		}
		out = append(out, fmt.Sprintf("%s's (%.0f %% of the device's time)", who, p.ns/dt.BusyNS*100))
	}
	return prose.JoinAnd(out)
}

// tracedSyncs quotes the agent's sync calls from strace, when it or one
// of its callers was traced (strace -f follows a shell loop's children).
func tracedSyncs(c *window.Window, a model.SyncAgent) (content.Evidence, bool) {
	for _, tv := range c.Targets {
		sa := tv.Summary
		if sa == nil || sa.SyncAll == nil || !agentTraced(a, tv) || tv.Target.Info.Strace == nil {
			continue
		}
		st := tv.Target.Info.Strace
		x := sa.SyncAll
		what := fmt.Sprintf("strace: %d sync() and %d syncfs() calls in %.1f s from %d task(s), %s", x.Sync, x.Syncfs, st.TracedSeconds, len(x.Tasks), x.Lat.Mean())
		if len(x.Filesystems) > 0 {
			what += "; syncfs on " + strings.Join(sortedKeys(x.Filesystems), ", ")
		}
		return content.Evidence{Member: st.Member, What: what, Lines: traceLines(tv.Target, x.Lines),
			Figures: map[string]float64{FigTracedSyncCalls: float64(x.Calls()), FigSyncAvgUS: x.Lat.AvgUS()}}, true
	}
	return content.Evidence{}, false
}

// writersWaits says how the producers of the forced pages waited: where
// their threads slept in D state, when they waited by the measure every
// rule shares (appWaited: io-stalls calls the stalls self-inflicted by
// it, and a single tick's sighting is no wait to name), and how long
// balance_dirty_pages paused them.
func writersWaits(c *window.Window, s *model.Share) string {
	if s == nil {
		return ""
	}
	var tasks []model.Task
	for t := range s.ForcedOf {
		if t.PID > 0 {
			tasks = append(tasks, t)
		}
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].PID < tasks[j].PID })
	var parts []string
	for _, t := range tasks {
		var what []string
		if pio := c.ByPID[t.PID]; pio != nil && appWaited(c, pio) {
			if w := waitSites(c, t.PID); w != "" {
				what = append(what, "in "+w)
			}
		}
		var pause int64
		for task, th := range c.Model.BlockTrace.Throttled {
			if task.PID == t.PID {
				pause += th.PauseMS
			}
		}
		if pause > 0 {
			what = append(what, fmt.Sprintf("paused %d ms in balance_dirty_pages", pause))
		}
		if len(what) > 0 {
			name := fmt.Sprintf("PID %d (%s)", t.PID, t.Comm)
			if pio := c.ByPID[t.PID]; pio != nil {
				name = window.Name(pio.Proc)
			}
			parts = append(parts, name+" "+strings.Join(what, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// syncCallerMitigations: sync far less often (the fix), sync less of the
// node, or freeze instead.
func syncCallerMitigations(c *window.Window, a model.SyncAgent, call, dev string, writersWaited bool) []content.Mitigation {
	effect := "The writers' data reaches " + dev + " in the background, in larger batches with fewer commits"
	if writersWaited {
		effect = "The writers' data reaches " + dev + " in the background; they stop waiting for a commit every call"
	}
	mp := mountOn(c, dev)
	j := model.JournalOf(c.Model.FSTypeOn(dev))
	ms := []content.Mitigation{{Horizon: content.Immediate, Key: fmt.Sprintf("sync-less:%d", a.Task.PID), Action: "Call it far less often: once before each snapshot or backup, not in a loop",
		How:    "Raise the agent's interval to its snapshot schedule; between calls the kernel writes dirty pages back in the background (vm.dirty_writeback_centisecs) in larger batches, with " + j.Background,
		Effect: effect}}
	if call != "syncfs()" {
		ms = append(ms, content.Mitigation{Horizon: content.ShortTerm, Action: "Sync only the filesystem it needs",
			How:    "syncfs(2) on that filesystem instead of sync(2), which writes back and commits every filesystem of the node: sync -f " + mp,
			Effect: "The other filesystems' devices stop paying for its calls"})
	}
	return append(ms, content.Mitigation{Horizon: content.LongTerm, Action: "Take consistent snapshots with a filesystem freeze instead of sync",
		How:    "freeze: fsfreeze -f " + mp + "; take the snapshot; thaw: fsfreeze -u " + mp + "; or an LVM snapshot (lvcreate's --snapshot) or a filesystem snapshot, which freezes the filesystem itself: the freeze writes back and blocks writers only for the snapshot's instant",
		Effect: "One writeback per snapshot, with a consistent image, instead of a sync every interval"})
}

// deviceShort says when the writers whose pages a sync caller forced out
// dirty more than the device writes: then the device stays busy however
// rarely anyone syncs, and the writers are the load to act on.
func deviceShort(c *window.Window, s *model.Share, dev string) string {
	x, ok := c.Devices[dev]
	if s == nil || !ok || c.Seconds <= 0 {
		return ""
	}
	var dirtied float64
	for t := range s.ForcedOf {
		if pio := c.ByPID[t.PID]; pio != nil && !pio.Proc.Kernel {
			dirtied += float64(pio.Delta.IO.WriteBytes)
		}
	}
	rate, wrote := dirtied/c.Seconds, x.WkBPS*1024
	if wrote <= 0 || rate <= 1.25*wrote {
		return ""
	}
	return fmt.Sprintf("But its writers dirty %s/s and %s writes %s/s: syncing less will not relieve the device, they are its load (see dominant-io-process).", prose.Bytes(rate), dev, prose.Bytes(wrote))
}

// mountOn is the mount point of a filesystem on dev (the first in the
// mount table), "MOUNTPOINT" when the bundle shows none.
func mountOn(c *window.Window, dev string) string {
	for _, mt := range c.Model.Mounts {
		if c.Model.DiskName(procfs.Dev{Major: mt.Major, Minor: mt.Minor}) == dev {
			return mt.MountPoint
		}
	}
	return "MOUNTPOINT"
}
