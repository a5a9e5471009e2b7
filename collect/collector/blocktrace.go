package collector

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/blocktrace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/ftrace"
)

// startBlockTrace starts the block-layer capture for the run, or returns
// nil when it is off.
func (c *collection) startBlockTrace() *blocktrace.Tracer {
	if !c.cfg.BlockTrace {
		return nil
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	cfg := blocktrace.Config{Duration: c.cfg.BlockTraceDuration, MaxBytes: c.cfg.BlockTraceMaxBytes,
		BufferKB: blockTraceBufferKB, Mountinfo: mi, SpillDirs: spillDirs(c.cfg.Output)}
	if c.node != nil {
		cfg.Shared = c.node
	}
	tr := blocktrace.Start(cfg)
	if root := tr.Tracefs(); c.node != nil && root != "" {
		// Instances of collectors killed before the state files existed.
		c.repaired = append(c.repaired, c.node.Stragglers(root)...)
	}
	return tr
}

// finishBlockTrace stops the capture, stores its members and records
// its outcome like any other source's.
func (c *collection) finishBlockTrace(tr *blocktrace.Tracer, m *bundle.Manifest, reason string) {
	if tr == nil {
		return
	}
	res := tr.Stop(reason)
	defer tr.Close()
	info := res.Info
	m.BlockTrace = &info
	c.ledger.time("block-trace", secondsDuration(info.Seconds))
	if info.Bytes > 0 || info.Status == bundle.StatusOK {
		c.store.putFrom(bundle.BlockTraceMember, info.Bytes, res.Text)
	}
	if len(res.Formats) > 0 {
		c.store.put(bundle.TraceFormatsMember, res.Formats)
	}
	// Now, while the files the flushers wrote are still open.
	c.captureOpenWriters(res.Text())
	st := info.Status
	if st == bundle.StatusOK {
		c.ledger.source("block-trace").Items++
	} else {
		c.ledger.problem(bundle.Problem{Source: "block-trace", Status: st,
			What: fmt.Sprintf("the block-layer trace did not run as planned (%s)", info.StopReason), Why: info.Error})
	}
	if len(info.Missing) > 0 {
		c.ledger.problem(bundle.Problem{Source: "block-trace", Status: bundle.StatusAbsent,
			What: "events this kernel does not have: " + strings.Join(info.Missing, ", ")})
	}
	if info.Truncated {
		c.bound(bundle.Bound{Name: "block-trace-max-bytes", Limit: c.cfg.BlockTraceMaxBytes,
			What: fmt.Sprintf("the block-layer trace stopped after %.1fs at %d bytes", info.Seconds, info.Bytes)})
	}
	if info.Overruns > 0 {
		c.bound(bundle.Bound{Name: "block-trace-buffer", Limit: blockTraceBufferKB << 10,
			What: fmt.Sprintf("%d events were lost: the trace reader fell behind the per-CPU buffers", info.Overruns)})
	}
}

// deviceTimer sums, per issuing process, the service time (issue to
// completion) of the block requests in the trace so far: the processes
// that hold a device's time by their own synchronous and direct requests.
// Writeback and journal requests issued by kernel threads are left to the
// analyzer, which ties them back to their cause. It is fed the new lines
// at each selection (Tracer.Follow), never the whole trace again.
type deviceTimer struct {
	match *ftrace.Matcher
	byPID map[int]int64
	// syncWrites counts, per issuing process, the write requests flagged
	// synchronous (O_DIRECT, O_SYNC/O_DSYNC, fsync's writeback) or FUA:
	// requests it waits for. A heartbeat's few synchronous writes on a
	// disk a bulk writer saturates hold little device time and few
	// syscalls, yet its every write waits behind the bulk writer: on a
	// busy node this ranking is what still makes it a target.
	syncWrites map[int]int64
	// syncCalls counts, per user task, the writeback work it queued with
	// reason=sync (sync(2), syncfs(2)): a snapshot agent's sync(1) runs as
	// a new process each time, and selection credits the agent.
	syncCalls map[syncCaller]int64
	// forkedBy is the process that started each task the trace saw
	// start (sched_process_fork): the exact parent of a sync(1) gone
	// before any tick, and of the shell between it and the agent.
	// forksDropped counts the forks past maxForks; forksNoted says the
	// manifest has the bound.
	forkedBy     ftrace.Forks
	forksDropped int
	forksNoted   bool
	// seen describes a process seen in any tick so far (the process
	// table's entry), for the short-lived sync callers gone by the last.
	seen func(pid int) (comm string, ppid int, ok bool)
}

// syncCaller is a task that queued sync work, as the trace names it.
type syncCaller struct {
	pid  int
	comm string
}

func newDeviceTimer() *deviceTimer {
	return &deviceTimer{match: ftrace.NewMatcher(), byPID: map[int]int64{}, syncWrites: map[int]int64{}, syncCalls: map[syncCaller]int64{}, forkedBy: ftrace.Forks{}}
}

// maxForks bounds forkedBy: a node forking thousands of processes a
// second fills it in minutes, and selection then falls back on the
// process table for the rest (the manifest's bounds say so).
const maxForks = 1 << 16

// addEvent takes one event.
func (d *deviceTimer) addEvent(e ftrace.Event) {
	if e.Name == "writeback_queue" && !ftrace.KernelTask(e.Comm) {
		if w, err := ftrace.ParseWork(e.Fields); err == nil && w.Reason == "sync" {
			d.syncCalls[syncCaller{e.Process(), e.Comm}]++
		}
		return
	}
	if e.Name == "sched_process_fork" {
		if len(d.forkedBy) < maxForks {
			d.forkedBy.Add(e)
		} else {
			d.forksDropped++
		}
		return
	}
	if !ftrace.IsBlockRequest(e.Name) {
		return
	}
	if r, done, err := d.match.Add(e); err == nil && done && !ftrace.KernelTask(r.Comm) {
		d.byPID[r.PID] += r.CompleteNS - r.IssueNS
		if r.Write() && (r.Sync() || r.Flush()) {
			d.syncWrites[r.PID]++
		}
	}
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// syncCallsBy credits each process with the sync work it queued in the
// trace so far; a caller that started during the window (first has no
// sample of it) or is already gone is a short-lived child, sync(1) run
// by an agent's loop, and its calls go to the nearest ancestor still
// running: known exactly from the trace's fork events (through a shell
// between them, cron's sh -c, that is gone too), or else from a caller
// of that name still running or seen in any tick of the window (d.seen:
// each lives a fraction of a second, and the last tick rarely finds
// one). Tracing the agent with -f then sees every call.
func (d *deviceTimer) syncCallsBy(first, last map[int]*procSnap) map[int]int64 {
	out := map[int]int64{}
	running := func(pid int) bool { return last[pid] != nil }
	short := func(c syncCaller) bool { return last[c.pid] == nil || first[c.pid] == nil }
	rest := map[syncCaller]int64{}
	for c, n := range d.syncCalls {
		if short(c) {
			if p, ok := d.forkedBy.Ancestor(c.pid, running); ok {
				out[p] += n
				continue
			}
		}
		rest[c] = n
	}
	parentOf := map[string]int{}
	for c := range rest {
		comm, ppid, ok := "", 0, false
		if s := last[c.pid]; s != nil {
			comm, ppid, ok = s.stat.Comm, s.stat.PPID, true
		} else if d.seen != nil {
			comm, ppid, ok = d.seen(c.pid)
		}
		if !ok || comm != c.comm || first[c.pid] != nil {
			continue
		}
		if p := last[ppid]; p != nil && ppid > 1 && p.stat.Comm != c.comm {
			parentOf[c.comm] = ppid
		}
	}
	for c, n := range rest {
		if p, ok := parentOf[c.comm]; ok && short(c) {
			out[p] += n
		} else {
			out[c.pid] += n
		}
	}
	return out
}
