package rules

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/advice"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// ioVictims names the processes that waited for a saturated device
// without being its cause: their block-IO wait from delay accounting
// (field 42 of /proc/PID/stat), the ticks they slept in D state, and the
// latency their own requests met on the device (block trace). Processes
// holding DeviceSharePct or more of the device are its causes and are
// reported by the other findings.
var ioVictims = &Rule{ID: "io-victims",
	Role: content.Victims, Check: checkIOVictims,
	Watch: []Watch{WatchTasks, AlertIOPressure},
}

// victim is one waiting process.
type victim struct {
	p         *model.ProcIO
	waitS     float64
	dshare    float64
	latencyMS float64
	requests  int
	// reqWaitMS is how long each of its requests waited on the device
	// (queued, and in flight behind others'); behind says behind whom.
	reqWaitMS float64
	behind    string
}

func checkIOVictims(c *window.Window) []content.Finding {
	sat := c.Saturated()
	if len(sat) == 0 {
		return nil
	}
	dev := sat[0]
	hz := float64(max(c.Model.Manifest.Host.UserHZ, 1))
	dt := c.DeviceTimes[dev]
	waited := c.Model.WaitedBehind(dev, math.MinInt64, math.MaxInt64)
	var vs []victim
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.Kernel || p.Samples < 2 {
			continue
		}
		// A cause, not a victim: a process holding DeviceSharePct of the
		// device and as much as a rival of its top holder would
		// (RivalShare). One that adds load but far less than the top
		// holder, and waits, is a victim that also contributes (a
		// database whose syncs queue behind a logger's on one journal).
		if share := c.DeviceShare(p.Proc.PID, dev); share*100 >= c.Thresholds.DeviceSharePct && share >= c.Thresholds.RivalShare*topShare(c, dev) {
			continue
		}
		v := victim{p: p, waitS: float64(max(p.MaxThreadBlkio, p.Delta.BlkioTicks)) / hz, dshare: prose.Pct(float64(p.DStates), float64(p.Samples))}
		if dt != nil {
			if s := dt.Find(p.Proc.PID); s != nil && s.Latency.Count > 0 {
				v.latencyMS, v.requests, v.reqWaitMS = s.Latency.MeanMS(), s.Requests, s.MeanWaitMS()
				v.behind = behindWhom(c, waited, s.Task.PID)
			}
		}
		// Its requests' waiting, as a share of the trace: the time they
		// spent queued and in flight behind others' (a reader whose every
		// request waits behind a slow writer's) — block-IO delay seen from
		// the device, where delay accounting may miss it.
		var reqWaitPct float64
		if dt != nil && dt.Seconds > 0 && !c.DeviceTimesEstimated {
			if s := dt.Find(p.Proc.PID); s != nil {
				reqWaitPct = s.WaitNS / 1e9 / dt.Seconds * 100
			}
		}
		waits := p.IOPercent(c.Model.Manifest.Host.UserHZ) >= c.Thresholds.IODelayPct || v.dshare >= c.Thresholds.DStatePct ||
			(v.requests > 0 && v.latencyMS >= c.Thresholds.AwaitMS) || reqWaitPct >= c.Thresholds.IODelayPct
		if waits {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].waitS != vs[j].waitS {
			return vs[i].waitS > vs[j].waitS
		}
		if vs[i].dshare != vs[j].dshare {
			return vs[i].dshare > vs[j].dshare
		}
		return vs[i].p.Proc.PID < vs[j].p.Proc.PID
	})
	x := c.Devices[dev]
	f := content.Finding{
		ID: "io-victims", Severity: content.Warning, Confidence: content.High, Score: vs[0].waitS,
		Title:    fmt.Sprintf("%d process(es) waited for %s, led by %s", len(vs), dev, window.Name(vs[0].p.Proc)),
		Subjects: content.Subjects{Device: dev},
	}
	var names []string
	for i, v := range vs {
		if i == 5 {
			break
		}
		f.Subjects.PIDs = append(f.Subjects.PIDs, v.p.Proc.PID)
		names = append(names, window.Name(v.p.Proc)+": "+victimText(c, v))
		ev := content.Evidence{Member: c.TicksMembers() + " (/proc/PID/stat)", Ticks: c.TickSpan(), What: window.Name(v.p.Proc) + ": " + victimText(c, v),
			Figures: map[string]float64{FigWaitS: v.waitS, FigDStatePct: v.dshare}}
		if v.requests > 0 {
			ev.Member += " and " + c.DeviceTimeSource()
			ev.Figures[FigLatencyMS] = v.latencyMS
			if !c.DeviceTimesEstimated {
				ev.Figures[FigRequestWaitMS] = v.reqWaitMS
			}
		}
		f.Evidence = append(f.Evidence, ev)
	}
	f.Summary = fmt.Sprintf("While %s was saturated (%%util %.0f, await %.1f ms), these processes waited for it: %s.", dev, x.Util, x.Await, strings.Join(names, "; "))
	if !delayAcctOn(c) {
		f.Confidence, f.ConfidenceWhy = content.Medium, "kernel.task_delayacct was off: waits are seen only in sampled D states and traced requests"
	}
	f.Mitigations = []content.Mitigation{
		{Horizon: content.Immediate, Key: "relieve-device", Subject: dev, Action: "Relieve " + dev + " of its cause", How: "The device-saturated finding names who holds its time", Effect: "These processes' IO waits fall with the device's await"},
		advice.IsolateLatency(c, dev, journalWaiters(c), content.LongTerm),
	}
	return []content.Finding{f}
}

// victimText says how one process waited.
func victimText(c *window.Window, v victim) string {
	var parts []string
	if v.waitS > 0 {
		parts = append(parts, fmt.Sprintf("%.1f s blocked on IO in %.0f s", v.waitS, v.p.Seconds))
	}
	if v.p.DStates > 0 {
		parts = append(parts, fmt.Sprintf("in D state in %d of %d ticks", v.p.DStates, v.p.Samples))
	}
	if w := waitChannel(c, v.p.Proc.PID); w != "" {
		parts = append(parts, "waiting in "+w)
	}
	if v.requests > 0 {
		took := fmt.Sprintf("its %d requests took %.1f ms each", v.requests, v.latencyMS)
		if v.behind != "" && v.reqWaitMS >= 0.05*v.latencyMS {
			took += fmt.Sprintf(", %.1f ms of it waiting behind %s", v.reqWaitMS, v.behind)
		}
		parts = append(parts, took)
	}
	if l := fsyncLatency(c, v.p.Proc.PID); l.Calls+l.Open > 0 {
		parts = append(parts, tookEach(l, "fsync/fdatasync calls"))
	}
	if l := syncWriteLatency(c, v.p.Proc.PID); l.Calls+l.Open > 0 {
		// An O_SYNC/O_DSYNC write waits for the commit and the flush that
		// others' requests hold up: its wait is here, not in its own
		// small requests.
		parts = append(parts, tookEach(l, "synchronous writes (O_SYNC/O_DSYNC)"))
	}
	if len(parts) == 0 {
		return "waited"
	}
	return strings.Join(parts, ", ")
}

// delayAcctOn reports whether per-task delay accounting counted during the
// capture.
func delayAcctOn(c *window.Window) bool {
	if da := c.Model.Manifest.DelayAcct; da != nil && (da.Enabled || da.Before == "1") {
		return true
	}
	return c.Model.Sysctl["kernel/task_delayacct"] == "1"
}

// waitChannel is the kernel function a target's threads slept in most
// often while in D state ("" when none was seen or it was no target).
func waitChannel(c *window.Window, pid int) string {
	seen := map[string]int{}
	for k := c.From; k <= c.To; k++ {
		for _, th := range c.Model.Ticks[k].Threads[pid] {
			if th.Stat.State == 'D' && th.Wchan != "" && th.Wchan != "0" {
				seen[th.Wchan]++
			}
		}
	}
	best, n := "", 0
	for w, k := range seen {
		if k > n || (k == n && w < best) {
			best, n = w, k
		}
	}
	return best
}

// fsyncLatency is the time of a traced target's fsync and fdatasync
// calls.
func fsyncLatency(c *window.Window, pid int) model.Latency {
	var l model.Latency
	if tv := c.Target(pid); tv != nil && tv.Summary != nil {
		for _, f := range tv.Summary.Files {
			l.Merge(f.SyncLat)
		}
	}
	return l
}

// syncWriteLatency is the time of a traced target's write calls to files
// it has open with O_SYNC or O_DSYNC.
func syncWriteLatency(c *window.Window, pid int) model.Latency {
	var l model.Latency
	tv := c.Target(pid)
	if tv == nil || tv.Summary == nil {
		return l
	}
	sync := map[string]bool{}
	for _, fd := range tv.Target.FDs {
		if fd.Info != nil && fd.Info.Flags.Writable() && (fd.Info.Flags.Sync() || fd.Info.Flags.DSync()) {
			sync[fd.Path] = true
		}
	}
	for _, f := range tv.Summary.Files {
		if sync[f.Path] {
			l.Merge(f.WriteLat)
		}
	}
	return l
}

// tookEach says how long a set of traced calls took: the completed ones'
// mean, and those still in progress when the trace ended.
func tookEach(l model.Latency, what string) string {
	s := fmt.Sprintf("its %d %s took %s each (strace)", l.Calls, what, model.FormatUS(l.AvgUS()))
	if l.Calls == 0 {
		s = fmt.Sprintf("its %s had not returned when the trace ended (strace)", what)
	}
	switch {
	case l.Open == 1:
		s += fmt.Sprintf(" and 1 more was still waiting when the trace ended, after at least %s", model.FormatUS(float64(l.OpenUS)))
	case l.Open > 1:
		s += fmt.Sprintf(" and %d more were still waiting when the trace ended, one after at least %s", l.Open, model.FormatUS(float64(l.OpenUS)))
	}
	return s
}

// behindWhom names who held the device while a process's requests waited
// in flight, the largest part first, at most three: processes, or kernel
// threads by kind.
func behindWhom(c *window.Window, waited map[model.Task]map[model.Task]float64, pid int) string {
	var total float64
	by := map[model.Task]float64{}
	for waiter, holders := range waited {
		if waiter.PID != pid {
			continue
		}
		for h, ns := range holders {
			if h.PID == pid && h.PID != 0 {
				continue // its own earlier requests
			}
			by[model.Task{PID: h.PID, Comm: h.Comm}] += ns
			total += ns
		}
	}
	if total == 0 {
		return ""
	}
	holders := make([]model.Task, 0, len(by))
	for h := range by {
		// A holder of under 1 % of the wait rounds to 0 %: not whom it
		// waited behind.
		if by[h] >= total/100 {
			holders = append(holders, h)
		}
	}
	sort.Slice(holders, func(i, j int) bool {
		if by[holders[i]] != by[holders[j]] {
			return by[holders[i]] > by[holders[j]]
		}
		return holders[i].PID < holders[j].PID
	})
	var names []string
	for i, h := range holders {
		if i == 3 {
			break
		}
		name := h.Comm + " (kernel)"
		if h.PID != 0 {
			name = fmt.Sprintf("PID %d (%s)", h.PID, h.Comm)
			if pio := c.ByPID[h.PID]; pio != nil {
				name = window.Name(pio.Proc)
			}
		}
		names = append(names, name)
		if len(holders) > 1 {
			names[i] += fmt.Sprintf(" (%.0f %% of that wait)", by[h]/total*100)
		}
	}
	return "the requests of " + prose.JoinAnd(names)
}

// topShare is the largest share of a device's time any user process
// holds.
func topShare(c *window.Window, dev string) float64 {
	dt := c.DeviceTimes[dev]
	if dt == nil {
		return 0
	}
	best := 0.0
	for _, s := range dt.Shares {
		if !s.Kernel {
			best = max(best, dt.Fraction(s))
		}
	}
	return best
}
