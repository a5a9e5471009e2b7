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

// dirtyThrottling reports writers held back by the kernel's dirty-page
// limit: Dirty + Writeback close to nr_dirty_threshold (vmstat), or a
// target's thread seen waiting in balance_dirty_pages (REFERENCE-IO.md
// 9.3). Such a wait is killable, so it never shows as a hung task.
var dirtyThrottling = &Rule{ID: "dirty-throttling",
	Role: content.Pressure, Check: checkDirtyThrottling,
	Deciding: [][]Condition{{
		{Figure: FigDirtySharePct, Threshold: func(t window.Thresholds) float64 { return t.DirtyLimitPct }, Bounded: true, What: "% of the dirty limit"},
		// Or seen paused in balance_dirty_pages: a fact, not a margin.
		{Figure: FigPausedS, Threshold: func(window.Thresholds) float64 { return 0 }, What: "s paused"},
	}},
	Watch: []Watch{WatchTasks, WatchMemory},
}

func checkDirtyThrottling(c *window.Window) []content.Finding {
	maxShare, maxK := 0.0, -1
	for k := c.From; k <= c.To; k++ {
		v := c.Model.Ticks[k].Vmstat
		if v == nil || v["nr_dirty_threshold"] == 0 {
			continue
		}
		share := prose.Pct(float64(v["nr_dirty"]+v["nr_writeback"]), float64(v["nr_dirty_threshold"]))
		if share > maxShare {
			maxShare, maxK = share, k
		}
	}
	throttled := map[int]int{}
	for k := c.From; k <= c.To; k++ {
		for pid, ths := range c.Model.Ticks[k].Threads {
			for _, th := range ths {
				if th.Wchan == "balance_dirty_pages" || strings.Contains(th.Stack, "balance_dirty_pages") {
					throttled[pid]++
				}
			}
		}
	}
	// The block trace's balance_dirty_pages events: who was paused, for
	// how long, including under a device's own (strict) dirty limit that
	// the node-wide figures do not show.
	paused := map[int]model.Throttle{}
	pausedComm := map[int]string{}
	var traceSecs float64
	if bt := c.Model.BlockTrace; bt != nil {
		traceSecs = bt.Seconds()
		for task, th := range bt.Throttled {
			p := paused[task.PID]
			p.Pauses += th.Pauses
			p.PauseMS += th.PauseMS
			paused[task.PID] = p
			pausedComm[task.PID] = task.Comm
		}
	}
	heldBack := map[int]bool{}
	for pid, th := range paused {
		// Paused for at least the stall share of the trace.
		if traceSecs > 0 && float64(th.PauseMS)/(traceSecs*1000)*100 >= c.Thresholds.IODelayPct {
			heldBack[pid] = true
		}
	}
	// A thread seen in balance_dirty_pages() is only passing through it
	// while dirty memory is below the freerun ceiling, halfway between the
	// background threshold and the limit: the kernel pauses no writer
	// there for the global limit.
	freerun, belowFreerun := 0.0, false
	if maxK >= 0 {
		v := c.Model.Ticks[maxK].Vmstat
		freerun = prose.Pct(float64(v["nr_dirty_background_threshold"]+v["nr_dirty_threshold"])/2, float64(v["nr_dirty_threshold"]))
		if maxShare < freerun {
			throttled = map[int]int{}
			belowFreerun = true
		}
	}
	if maxShare < c.Thresholds.DirtyLimitPct && len(throttled) == 0 && len(heldBack) == 0 {
		return nil
	}
	var pids []int
	for pid := range throttled {
		pids = append(pids, pid)
	}
	for pid := range heldBack {
		if throttled[pid] == 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	f := content.Finding{
		ID: "dirty-throttling", Severity: content.Warning, Confidence: content.High, Score: maxShare,
		Title:    fmt.Sprintf("Writers are throttled by the dirty-page limit (dirty memory reached %.0f %% of it)", maxShare),
		Subjects: content.Subjects{PIDs: pids},
	}
	if maxK >= 0 {
		v := c.Model.Ticks[maxK].Vmstat
		page := c.PageSize()
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.TickMember(maxK) + " (/proc/vmstat)", Ticks: fmt.Sprint(maxK),
			What: fmt.Sprintf("nr_dirty %d + nr_writeback %d pages (%s) against nr_dirty_threshold %d (%s), background threshold %d",
				v["nr_dirty"], v["nr_writeback"], prose.Bytes(float64(v["nr_dirty"]+v["nr_writeback"])*page), v["nr_dirty_threshold"], prose.Bytes(float64(v["nr_dirty_threshold"])*page), v["nr_dirty_background_threshold"]),
			Figures: map[string]float64{FigDirtySharePct: maxShare}})
	}
	for _, pid := range pids {
		if throttled[pid] > 0 {
			f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/task/*/wchan, stack)", Ticks: c.TickSpan(),
				What: fmt.Sprintf("PID %d seen in balance_dirty_pages in %d thread samples", pid, throttled[pid])})
		}
		if th, ok := paused[pid]; ok && th.Pauses > 0 {
			name := fmt.Sprintf("PID %d (%s)", pid, pausedComm[pid])
			if pio := c.ByPID[pid]; pio != nil {
				name = window.Name(pio.Proc)
			}
			f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.BlockTraceMember + " (balance_dirty_pages)",
				What:    fmt.Sprintf("%s was paused %d times for %.1f s in all over %.1f s of trace", name, th.Pauses, float64(th.PauseMS)/1000, traceSecs),
				Figures: map[string]float64{FigPauses: float64(th.Pauses), FigPausedS: float64(th.PauseMS) / 1000}})
		}
	}
	s := c.Model.Sysctl
	f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.HostMember + " (/proc/sys/vm)",
		What: fmt.Sprintf("vm.dirty_ratio %s, dirty_background_ratio %s, dirty_bytes %s, dirty_background_bytes %s", orDash(s["vm/dirty_ratio"]), orDash(s["vm/dirty_background_ratio"]), orDash(s["vm/dirty_bytes"]), orDash(s["vm/dirty_background_bytes"]))})
	f.Summary = fmt.Sprintf("Dirty page cache reached %.0f %% of the limit at which the kernel makes writers wait in balance_dirty_pages(); those waits count as IO delay and pressure.", maxShare)
	f.Mitigations = []content.Mitigation{
		{Horizon: content.Immediate, Key: advice.BulkWriterKey, Action: "Slow the bulk buffered writer", How: bufferedSlowDown(c), Effect: "Dirty memory stays below the limit; the other writers stop being throttled"},
		{Horizon: content.ShortTerm, Action: "Start writeback earlier and smaller", How: "sysctl vm.dirty_background_bytes=67108864 vm.dirty_bytes=268435456 (tune to the device's speed)", Effect: "Smoother writeback instead of bursts that stall every writer"},
	}
	if belowFreerun && len(heldBack) > 0 {
		heldByCap(c, &f, pids, paused, maxShare, freerun)
		return []content.Finding{f}
	}
	selfPaced(c, &f, pids)
	return []content.Finding{f}
}

// heldByCap says what holds writers paused while the node's dirty memory
// is below the free-run point: not the global limit, but a cap of their
// device or memory cgroup (dirty_cap.go), and how to lift that one
// without throttling every writer on the node.
func heldByCap(c *window.Window, f *content.Finding, pids []int, paused map[int]model.Throttle, share, freerun float64) {
	cp := findDirtyCap(c, pids, paused)
	f.Summary = fmt.Sprintf("The kernel paused writers in balance_dirty_pages() although the node's dirty memory stayed at %.0f %% of its limit, below the free-run point (%.0f %%, halfway between the background threshold and the limit) under which the global limit throttles no one: a cap of their own holds them.", share, freerun)
	if cp.Name != "" {
		f.Title = "Writers are throttled by a dirty cap below the node's limit: " + cp.Name
		f.Summary += fmt.Sprintf(" The cap: %s; %s.", cp.Name, cp.Why)
	} else {
		f.Title = fmt.Sprintf("Writers are throttled below the node's dirty limit (dirty memory at %.0f %% of it) by a per-device or per-cgroup cap", share)
		f.Summary += fmt.Sprintf(" But %s.", cp.Why)
	}
	f.Summary += " Those waits count as IO delay and pressure."
	f.Evidence = append(f.Evidence, cp.Evidence...)
	// The global sysctls are not the lever: they would throttle every
	// writer on the node and leave the cap as it is.
	f.Mitigations = append(f.Mitigations[:1], cp.Mitigations...)
	if len(pids) > 0 && onlyTheBufferedWriter(c, pids) {
		// Slowing it would change nothing: the cap already paces it to
		// its device, and no other writer waits behind its pages.
		f.Summary += " The only writer held back is the node's biggest buffered writer itself; no other process waits."
		f.Mitigations = cp.Mitigations
	}
}

// selfPaced lowers the finding to info when the only writers held back are
// the node's biggest buffered writers themselves: the kernel is pacing
// them to their device, no one else waits, and "slow the writer" is what
// already happens.
func selfPaced(c *window.Window, f *content.Finding, pids []int) {
	if len(pids) == 0 || !onlyTheBufferedWriter(c, pids) {
		return
	}
	f.Severity = content.Info
	f.Title = fmt.Sprintf("%s is paced to its device by dirty-page throttling", window.Name(c.ByPID[pids[0]].Proc))
	f.Summary += " The only writer held back is the node's biggest buffered writer itself: the kernel is pacing it, and no other process waits."
	f.Mitigations = nil
}

// bufferedSlowDown is how to slow a buffered writer on this node: IO
// priorities do not reach writeback, and only a cgroup v2 io.max
// throttles it (a v1 limit holds for direct IO only).
func bufferedSlowDown(c *window.Window) string {
	how := "For copies and backups, O_DIRECT, or sync_file_range and posix_fadvise(DONTNEED) every few MiB (ionice does not reach writeback)"
	if c.Model.CgroupV2Root != "" && c.Model.CgroupV1Root == "" {
		how += "; or io.max on the writer's cgroup (cgroup v2 throttles its writeback too)"
	}
	return how
}
