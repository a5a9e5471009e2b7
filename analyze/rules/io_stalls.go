package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// ioStalls reports tasks waiting for IO: the share of the window with IO
// pressure (PSI totals, exact, rather than the avg10 trend), processes in
// D state in most ticks, and block-IO delay (iotop's IO%) where delay
// accounting is on. For targets it quotes where in the kernel they wait.
var ioStalls = &Rule{ID: "io-stalls",
	Role: content.Stall, Check: checkIOStalls,
	Deciding: [][]Condition{{
		{Figure: FigSomePct, Threshold: func(t window.Thresholds) float64 { return t.PSISomePct }, Bounded: true, What: "% of the time with a task waiting for IO"},
		{Figure: FigDStatePct, Threshold: func(t window.Thresholds) float64 { return t.DStatePct }, Bounded: true, What: "% of samples in D state"},
		{Figure: FigIODelayPct, Threshold: func(t window.Thresholds) float64 { return t.IODelayPct }, Bounded: true, What: "% block-IO delay"},
	}},
	Watch: []Watch{WatchTasks, AlertIOPressure},
}

// stalled is an application process that waited for IO in most ticks.
type stalled struct {
	p      *model.ProcIO
	dshare float64
	iopct  float64
}

func checkIOStalls(c *window.Window) []content.Finding {
	m := c.Model
	first, last := m.Ticks[c.From], m.Ticks[c.To]
	some, full, havePSI := m.PSIShare(c.From, c.To)
	var procs []stalled
	for i := range c.Procs {
		p := &c.Procs[i]
		// A kernel thread in D state (a flusher, jbd2 committing, a loop
		// worker) is doing IO for others: busy, not stalled; the tasks it
		// works for show their own waits.
		if p.Samples < 3 || p.Proc.Kernel {
			continue
		}
		ds := prose.Pct(float64(p.DStates), float64(p.Samples))
		io := p.IOPercent(m.Manifest.Host.UserHZ)
		if ds >= c.Thresholds.DStatePct || io >= c.Thresholds.IODelayPct {
			procs = append(procs, stalled{p, ds, io})
		}
	}
	sort.Slice(procs, func(i, j int) bool {
		if procs[i].dshare != procs[j].dshare {
			return procs[i].dshare > procs[j].dshare
		}
		return procs[i].p.Proc.PID < procs[j].p.Proc.PID
	})
	if some < c.Thresholds.PSISomePct && full < c.Thresholds.PSIFullPct && len(procs) == 0 {
		return nil
	}
	sev := content.Warning
	if full >= 4*c.Thresholds.PSIFullPct {
		sev = content.Critical
	}
	conf, why := content.High, ""
	if !havePSI {
		conf, why = content.Medium, "no PSI on this kernel: stalls are seen only in sampled task states"
	}
	f := content.Finding{
		ID: "io-stalls", Severity: sev, Confidence: conf, ConfidenceWhy: why, Score: some + full,
		Title: fmt.Sprintf("Tasks stall on IO: %.0f %% of the time some wait, %.0f %% all do", some, full),
	}
	var parts []string
	if havePSI {
		parts = append(parts, fmt.Sprintf("IO pressure: some task waited %.1f %% and all non-idle tasks %.1f %% of the %.0f s", some, full, c.Seconds))
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/pressure/io)", Ticks: c.TickSpan(),
			What:    fmt.Sprintf("PSI io totals: some +%d µs, full +%d µs over %.1f s (%.1f %% and %.1f %%); avg10 at the end %.2f / %.2f", last.PSI.Some.TotalUS-first.PSI.Some.TotalUS, fullTotal(first, last), c.Seconds, some, full, last.PSI.Some.Avg10, fullAvg10(last)),
			Figures: map[string]float64{FigSomePct: some, FigFullPct: full}})
	}
	for i, s := range procs {
		if i == 5 {
			break
		}
		f.Subjects.PIDs = append(f.Subjects.PIDs, s.p.Proc.PID)
		what := fmt.Sprintf("%s was in D state in %d of %d ticks (%.0f %%)", window.Name(s.p.Proc), s.p.DStates, s.p.Samples, s.dshare)
		if s.iopct > 0 {
			what += fmt.Sprintf(", IO delay %.0f %% of the time", s.iopct)
		}
		if w := waitSites(c, s.p.Proc.PID); w != "" {
			what += "; waiting in " + w
		}
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/stat)", Ticks: c.TickSpan(), What: what,
			Figures: map[string]float64{FigDStatePct: s.dshare, FigIODelayPct: s.iopct}})
	}
	if len(procs) > 0 {
		parts = append(parts, fmt.Sprintf("%d process(es) mostly in uninterruptible IO wait, first %s", len(procs), window.Name(procs[0].p.Proc)))
	}
	f.Summary = strings.Join(parts, "; ") + "."
	f.Mitigations = []content.Mitigation{
		{Horizon: content.Immediate, Action: "Relieve the device of the writer the other findings name", How: "The mitigations of the finding these stalls follow from", Effect: "Waiting tasks resume"},
	}
	if k := kernelBusy(c); k != "" {
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/stat)", Ticks: c.TickSpan(),
			What: "kernel threads in D state in most ticks, doing IO for others (they count in the node's pressure, they are not its victims): " + k})
	}
	if !selfInflictedStalls(c, &f, some) {
		// Other tasks waited: they are the ones to protect.
		f.Mitigations = append(f.Mitigations, advice.IsolateLatency(c, stalledDevice(c), journalWaiters(c), content.LongTerm))
	}
	return []content.Finding{f}
}

// selfInflictedStalls quotes the load's own cgroup pressure beside the
// node's, and lowers the finding to info when no task but the load's own
// waited: the kernel threads doing its IO and its own waits make the
// node's pressure, and no one else pays for it. It reports whether they
// were self-inflicted.
func selfInflictedStalls(c *window.Window, f *content.Finding, nodeSome float64) bool {
	holder := loadHolder(c)
	if holder == nil {
		return false
	}
	if e, path, cgSome, ok := cgroupPressureEvidence(c, holder, nodeSome); ok {
		f.Evidence = append(f.Evidence, e)
		if nodeSome > 0 {
			f.Summary += fmt.Sprintf(" In its own %s, %s and its neighbours there waited %.1f %% of the time against the node's %.1f %%.", prose.Cgroup("", path), window.Name(holder), cgSome, nodeSome)
			if cgSome < nodeSome/2 {
				f.Summary += psiUncountedWaits(c, holder)
			}
		}
	}
	others, cgroups := otherWaiters(c, holder)
	if len(others) > 0 || len(cgroups) > 0 {
		return false
	}
	f.Severity = content.Info
	f.Summary += fmt.Sprintf(" Self-inflicted: no other task waited; the pressure is the waits of %s and of the kernel threads doing its IO.", window.Name(holder))
	// The task that waited is the load itself: it is the subject, and
	// there are no victims to protect from it.
	if !slices.Contains(f.Subjects.PIDs, holder.PID) {
		f.Subjects.PIDs = append([]int{holder.PID}, f.Subjects.PIDs...)
	}
	return true
}

func fullTotal(a, b *model.Tick) uint64 {
	if a.PSI.Full == nil || b.PSI.Full == nil {
		return 0
	}
	return b.PSI.Full.TotalUS - a.PSI.Full.TotalUS
}

func fullAvg10(t *model.Tick) float64 {
	if t.PSI.Full == nil {
		return 0
	}
	return t.PSI.Full.Avg10
}

// waitSites names the kernel functions a target's threads were seen
// waiting in (wchan), most frequent first.
func waitSites(c *window.Window, pid int) string {
	count := map[string]int{}
	for k := c.From; k <= c.To; k++ {
		for _, th := range c.Model.Ticks[k].Threads[pid] {
			if th.Stat.State == 'D' && th.Wchan != "" && th.Wchan != "0" {
				count[th.Wchan]++
			}
		}
	}
	type wc struct {
		w string
		n int
	}
	var l []wc
	for w, n := range count {
		l = append(l, wc{w, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].w < l[j].w
	})
	var out []string
	for i, x := range l {
		if i == 3 {
			break
		}
		out = append(out, fmt.Sprintf("%s (%d)", x.w, x.n))
	}
	return strings.Join(out, ", ")
}

// onlyTheBufferedWriter reports whether pids are just the node's biggest
// writer (and kernel threads working for it), and it writes buffered: a
// bulk writer the kernel paces to its device, not a process that makes
// others wait.
func onlyTheBufferedWriter(c *window.Window, pids []int) bool {
	top := loadHolder(c)
	if top == nil {
		return false
	}
	for _, pid := range pids {
		// Kernel threads (the writeback kworker of its device, the
		// journal) wait on its behalf, not as its victims.
		if pio := c.ByPID[pid]; pio != nil && pio.Proc.Kernel {
			continue
		}
		if pid != top.PID {
			return false
		}
	}
	_, mode := advice.WriteMode(c, top)
	return mode == "buffered"
}

// stalledDevice is the device the stalls wait for: the one that hurts
// most, "" when none does.
func stalledDevice(c *window.Window) string {
	if h := c.Hurting(); len(h) > 0 {
		return h[0]
	}
	return ""
}

// journalWaiters reports whether application threads were seen asleep
// waiting for a journal commit (jbd2_log_wait_commit) in the window.
func journalWaiters(c *window.Window) bool {
	for _, p := range c.Procs {
		if !p.Proc.Kernel && waitsForCommits(c, p.Proc.PID) {
			return true
		}
	}
	return false
}

// waitsForCommits reports whether a process's threads were seen asleep
// waiting for a journal commit or log force, of whichever filesystem
// (ext4's jbd2_log_wait_commit, XFS's xlog_wait_on_iclog: both plain
// uninterruptible waits, not io_schedule()).
func waitsForCommits(c *window.Window, pid int) bool {
	for k := c.From; k <= c.To; k++ {
		for _, th := range c.Model.Ticks[k].Threads[pid] {
			if th.Stat.State == 'D' && (commitWait(th.Wchan) || commitWait(th.Stack)) {
				return true
			}
		}
	}
	return false
}

// commitWait reports a wchan or stack of a sync waiting for ext4's or
// XFS's commit.
func commitWait(s string) bool {
	return s != "" && (model.JournalOf("ext4").WaitsOnCommit(s) || model.JournalOf("xfs").WaitsOnCommit(s))
}

// psiUncountedWaits explains a cgroup's pressure below the node's by
// the holder's own sampled sleeps, as PSI counts each
// (model.PSIWaitOf): waits for a journal commit or log force are plain
// sleeps PSI does not count; others, such as waiting for a metadata
// buffer the commit is writing, are io_schedule() sleeps it does. ""
// when none of its sleeps was an uncounted one.
func psiUncountedWaits(c *window.Window, holder *model.Process) string {
	var inD int
	seen := map[model.PSIWait]map[string]int{}
	whats := map[model.PSIWait]map[string]bool{}
	for k := c.From; k <= c.To; k++ {
		for _, th := range c.Model.Ticks[k].Threads[holder.PID] {
			if th.Stat.State != 'D' {
				continue
			}
			inD++
			w, fn, what := model.PSIWaitOf(th.Wchan, th.Stack)
			if seen[w] == nil {
				seen[w], whats[w] = map[string]int{}, map[string]bool{}
			}
			seen[w][fn]++
			whats[w][what] = true
		}
	}
	uncounted, counted := seen[model.PSIUncounted], seen[model.PSICounted]
	if len(uncounted) == 0 {
		return ""
	}
	name := window.Name(holder)
	commits := prose.JoinAnd(plurals(whats[model.PSIUncounted]))
	if len(counted) == 0 {
		return fmt.Sprintf(" In the %s that caught it in D state, it waited for %s (%s): plain sleeps that PSI does not count as IO waits. The node's figure is mostly the journal's writer's, waiting for the commits' writes; the stall of %s is the latency of its synchronous calls.",
			prose.Plural(inD, "sample"), commits, countList(uncounted), name)
	}
	return fmt.Sprintf(" Of the %s that caught it in D state, %d were waits for %s (%s), plain sleeps that PSI does not count as IO waits, and %d were IO sleeps it counts (%s: waiting for %s); its cgroup's figure shows only that part of its waiting.",
		prose.Plural(inD, "sample"), total(uncounted), commits, countList(uncounted), total(counted), countList(counted), prose.JoinAnd(sortedKeys(whats[model.PSICounted])))
}

// plurals are the nouns of a set, each made plural ("journal commit" ->
// "journal commits"), sorted.
func plurals(set map[string]bool) []string {
	var out []string
	for _, k := range sortedKeys(set) {
		out = append(out, k+"s")
	}
	return out
}

// countList is "fn (n), ..." by count, most first.
func countList(m map[string]int) string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(out, ", ")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
