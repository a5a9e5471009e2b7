package model

import (
	"sort"

	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// SyncCall is a whole-filesystem writeback a user task asked for: the
// writeback_queue events with reason=sync that sync(2) and syncfs(2)
// queue for each filesystem they write back (syncforce.go's add says how
// they are counted). An fsync queues none.
type SyncCall struct {
	NS    int64
	Task  Task
	BDI   procfs.Dev
	SbDev procfs.Dev
	// Syncfs is set when the call first queued a pass that does not wait
	// (writeback_inodes_sb): syncfs(2) does, sync(2) never.
	Syncfs bool
	// waited is set once the call queued its waiting pass; last is its
	// latest event.
	waited bool
	last   int64
}

// FlusherPass is a flusher's pass of writeback work (writeback_start to
// writeback_written) and why it ran. The requests a flusher issues belong
// to its latest pass: it issues them as it unplugs, often just after the
// pass's writeback_written. A pass with reason=sync writes pages out
// because someone called sync() or syncfs(), not on writeback's own
// schedule; its SbDev is zero when it writes every filesystem of the bdi
// (sync(2) first wakes every flusher so: wakeup_flusher_threads).
type FlusherPass struct {
	PID          int
	BDI, SbDev   procfs.Dev
	Sync         bool
	FromNS, ToNS int64
}

// syncWork collects the writeback work events while a trace is parsed.
type syncWork struct {
	calls  []SyncCall
	passes []FlusherPass
	open   map[int]int // flusher PID → index of its latest pass
}

// add takes one writeback work event.
func (w *syncWork) add(name string, e ftrace.Event, task Task) error {
	wk, err := ftrace.ParseWork(e.Fields)
	if err != nil {
		return err
	}
	switch name {
	case "writeback_queue":
		// Kernel threads queue sync work too (a filesystem freezing, an
		// unmount): only a user task's call is a sync caller's.
		if wk.Reason != "sync" || ftrace.KernelTask(task.Comm) {
			return nil
		}
		// syncfs(2) first queues a pass that does not wait for every page
		// (sync_mode=0, writeback_inodes_sb) and then one that does
		// (sync_mode=1, sync_inodes_sb; skipped when the first left the
		// filesystem clean); sync(2) queues only the second, for each
		// filesystem. One call queues a work per cgroup writeback of a
		// bdi too: the same task's events for one filesystem are one
		// call until it queues a first pass again or a second second.
		for i := len(w.calls) - 1; i >= 0 && e.TimeNS-w.calls[i].NS < 5e9; i-- {
			c := &w.calls[i]
			if c.Task == task && c.SbDev == wk.SbDev && c.BDI == wk.BDI {
				if wk.SyncAll && !c.waited {
					c.waited, c.last = true, e.TimeNS
					return nil
				}
				if wk.SyncAll && e.TimeNS-c.last < 1e6 {
					c.last = e.TimeNS
					return nil
				}
				break
			}
		}
		w.calls = append(w.calls, SyncCall{NS: e.TimeNS, Task: task, BDI: wk.BDI, SbDev: wk.SbDev, Syncfs: !wk.SyncAll, waited: wk.SyncAll, last: e.TimeNS})
	case "writeback_start":
		if w.open == nil {
			w.open = map[int]int{}
		}
		sync := wk.Reason == "sync"
		if i, ok := w.open[e.PID]; ok {
			if p := &w.passes[i]; p.BDI == wk.BDI && p.SbDev == wk.SbDev && p.Sync == sync {
				p.ToNS = e.TimeNS // the same work's next pass
				return nil
			}
		}
		w.open[e.PID] = len(w.passes)
		w.passes = append(w.passes, FlusherPass{PID: e.PID, BDI: wk.BDI, SbDev: wk.SbDev, Sync: sync, FromNS: e.TimeNS, ToNS: e.TimeNS})
	case "writeback_written":
		if i, ok := w.open[e.PID]; ok {
			w.passes[i].ToNS = e.TimeNS
		}
	}
	return nil
}

// passSlackNS is how long after its pass's last event a flusher's request
// still belongs to it (unplugged at the end of the work).
const passSlackNS = 1e9

// forcedBy finds, for each request a flusher issued for a sync pass, the
// sync caller whose call it served: the call nearest the pass's start on
// the same bdi, or on any bdi for a pass that writes every filesystem
// (sync(2)'s wakeup comes before its queued works), within
// maxForcedGapNS. A request belongs to the latest pass its flusher began
// before it.
func (bt *BlockTrace) forcedBy() map[*Request]Task {
	if len(bt.SyncCalls) == 0 || len(bt.Passes) == 0 {
		return nil
	}
	byPID := map[int][]int{}
	for i, p := range bt.Passes {
		byPID[p.PID] = append(byPID[p.PID], i)
	}
	// One caller a pass, found once: a trace holds far more requests.
	type found struct {
		t  Task
		ok bool
	}
	callerOf := map[int]found{}
	out := map[*Request]Task{}
	for i := range bt.Requests {
		r := &bt.Requests[i]
		if !r.Write() || r.Flush() || !ftrace.KernelTask(r.Comm) {
			continue
		}
		at := r.IssueNS
		if r.InsertNS > 0 {
			at = r.InsertNS
		}
		ps := byPID[r.PID]
		k := sort.Search(len(ps), func(k int) bool { return bt.Passes[ps[k]].FromNS > at }) - 1
		if k < 0 {
			continue
		}
		p := bt.Passes[ps[k]]
		if !p.Sync || at > p.ToNS+passSlackNS {
			continue
		}
		f, seen := callerOf[ps[k]]
		if !seen {
			f.t, f.ok = bt.nearestCall(p, p.FromNS)
			callerOf[ps[k]] = f
		}
		if f.ok {
			out[r] = f.t
		}
	}
	return out
}

// maxForcedGapNS bounds how far a sync pass may be from the call it
// served.
const maxForcedGapNS = 2e9

// nearestCall is the sync caller of the call nearest to ns that a pass
// served: on its bdi, or on any for a pass over every filesystem.
func (bt *BlockTrace) nearestCall(p FlusherPass, ns int64) (Task, bool) {
	best, gap := Task{}, int64(maxForcedGapNS)
	for _, c := range bt.SyncCalls {
		if c.BDI != p.BDI && p.SbDev != (procfs.Dev{}) {
			continue
		}
		d := c.NS - ns
		if d < 0 {
			d = -d
		}
		if d < gap {
			best, gap = c.Task, d
		}
	}
	return best, gap < maxForcedGapNS
}

// SyncCallers are the tasks that called sync() or syncfs() in the trace,
// most calls first. A call queues one work per filesystem it writes back
// that still has dirty inodes (a sync(2) whose first pass wrote a
// filesystem clean queues none for it): a task's calls are its most
// queued for any one filesystem.
func (bt *BlockTrace) SyncCallers() []SyncCaller {
	perSb := map[Task]map[procfs.Dev]int{}
	syncfs := map[Task]bool{}
	for _, c := range bt.SyncCalls {
		if perSb[c.Task] == nil {
			perSb[c.Task] = map[procfs.Dev]int{}
		}
		perSb[c.Task][c.SbDev]++
		syncfs[c.Task] = syncfs[c.Task] || c.Syncfs
	}
	out := make([]SyncCaller, 0, len(perSb))
	for t, sbs := range perSb {
		s := SyncCaller{Task: t, Syncfs: syncfs[t]}
		for sb, n := range sbs {
			s.Calls = max(s.Calls, n)
			s.Filesystems = append(s.Filesystems, sb)
		}
		sort.Slice(s.Filesystems, func(i, j int) bool { return s.Filesystems[i].String() < s.Filesystems[j].String() })
		out = append(out, s)
	}
	sortByCalls(out, func(x SyncCaller) (int, int) { return x.Calls, x.Task.PID })
	return out
}

// SyncCaller is one task's sync calls and the filesystems (their
// devices) they queued writeback for.
type SyncCaller struct {
	Task        Task
	Calls       int
	Filesystems []procfs.Dev
	// Syncfs is set when a call of it was syncfs(2) (SyncCall.Syncfs).
	Syncfs bool
}

// syncAliases charges the short-lived processes that called sync() or
// syncfs() to the process that ran them: a snapshot or backup agent's
// shell loop runs sync(1) as a new process each time, and the agent is
// the one to name and to change. A caller that lives on (a daemon calling
// syncfs itself, seen in every tick) is its own. Another goes to its
// nearest ancestor the process table saw in more than one tick, by the
// trace's fork events (through a shell between them that is gone too);
// without them (or in bundles before them), to its parent in the
// process table, and one never seen to the parent of a seen caller of
// the same name.
func (m *Model) syncAliases() map[Task]Task {
	bt := m.BlockTrace
	if bt == nil || len(bt.SyncCalls) == 0 {
		return nil
	}
	byPID := map[int]*Process{}
	for _, p := range m.Procs {
		byPID[p.PID] = p
	}
	out := map[Task]Task{}
	parentOf := map[string]Task{} // by the callers' comm
	var unseen []Task
	whole := func(p *Process) bool { return p.First == 0 && p.Last == len(m.Ticks)-1 }
	// livesOn is a process the table saw beyond one tick: an agent, not
	// a helper of its loop.
	livesOn := func(pid int) bool {
		p := byPID[pid]
		return p != nil && !p.Kernel && p.Last > p.First
	}
	for _, c := range bt.SyncCalls {
		t := c.Task
		if _, done := out[t]; done {
			continue
		}
		p := byPID[t.PID]
		if p == nil || !whole(p) {
			if pid, ok := bt.ForkedBy.Ancestor(t.PID, livesOn); ok {
				a := Task{PID: pid, Comm: byPID[pid].Comm}
				out[t] = a
				parentOf[t.Comm] = a
				continue
			}
		}
		if p == nil || p.Comm != t.Comm {
			unseen = append(unseen, t)
			continue
		}
		parent := byPID[p.PPID]
		if whole(p) || parent == nil || parent.Kernel || parent.PID <= 1 {
			continue
		}
		a := Task{PID: parent.PID, Comm: parent.Comm}
		out[t] = a
		parentOf[t.Comm] = a
	}
	for _, t := range unseen {
		if a, ok := parentOf[t.Comm]; ok {
			out[t] = a
		}
	}
	// The agent's other helpers of that name (one already running when
	// the trace began has no call in it) are its too.
	for _, p := range m.Procs {
		if a, ok := parentOf[p.Comm]; ok && p.PPID == a.PID && !whole(p) {
			out[Task{PID: p.PID, Comm: p.Comm}] = a
		}
	}
	return out
}

// SyncAgents groups the trace's sync callers by the agent charged for
// them (syncAliases): each agent with its callers and their calls, most
// calls first.
func (m *Model) SyncAgents() []SyncAgent {
	if m.BlockTrace == nil {
		return nil
	}
	alias := m.syncAliases()
	wakers := m.BlockTrace.wakeAllCallers()
	by := map[Task]*SyncAgent{}
	for _, c := range m.BlockTrace.SyncCallers() {
		a := c.Task
		if x, ok := alias[a]; ok {
			a = x
		}
		s := by[a]
		if s == nil {
			s = &SyncAgent{Task: a}
			by[a] = s
		}
		s.Callers = append(s.Callers, c.Task)
		s.Calls += c.Calls
		s.MaxFilesystems = max(s.MaxFilesystems, len(c.Filesystems))
		s.WakesAll = s.WakesAll || wakers[c.Task]
		s.Syncfs = s.Syncfs || c.Syncfs
	}
	out := make([]SyncAgent, 0, len(by))
	for _, s := range by {
		sort.Slice(s.Callers, func(i, j int) bool { return s.Callers[i].PID < s.Callers[j].PID })
		out = append(out, *s)
	}
	sortByCalls(out, func(x SyncAgent) (int, int) { return x.Calls, x.Task.PID })
	return out
}

// sortByCalls orders callers by calls, most first, then by PID.
func sortByCalls[T any](s []T, key func(T) (calls, pid int)) {
	sort.Slice(s, func(i, j int) bool {
		ci, pi := key(s[i])
		cj, pj := key(s[j])
		if ci != cj {
			return ci > cj
		}
		return pi < pj
	})
}

// SyncAgent is a task charged for sync calls: the caller itself, or the
// agent that ran short-lived sync(1) processes (Callers).
type SyncAgent struct {
	Task    Task
	Callers []Task
	Calls   int
	// MaxFilesystems is the most filesystems one caller queued
	// writeback for: more than one is sync(2), not syncfs(2).
	MaxFilesystems int
	// WakesAll is true when its calls woke every flusher (a sync pass
	// over every filesystem of a bdi came with them): sync(2) does,
	// syncfs(2) never. Syncfs is true when a call was syncfs(2).
	WakesAll, Syncfs bool
}

// wakeAllCallers are the callers whose calls came with sync passes over
// every filesystem of a bdi (wakeup_flusher_threads: sync(2) only).
func (bt *BlockTrace) wakeAllCallers() map[Task]bool {
	out := map[Task]bool{}
	for _, p := range bt.Passes {
		if p.Sync && p.SbDev == (procfs.Dev{}) {
			if t, ok := bt.nearestCall(p, p.FromNS); ok {
				out[t] = true
			}
		}
	}
	return out
}
