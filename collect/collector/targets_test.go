package collector

import (
	"fmt"
	"slices"
	"testing"

	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

func snap(start uint64, comm string, writeBytes, syscw int64) *procSnap {
	return &procSnap{stat: procfs.PIDStat{StartTime: start, Comm: comm}, io: procfs.PIDIO{WriteBytes: writeBytes, SyscW: syscw}, hasIO: true}
}

// A process that started during the window is a candidate like the
// others, with all its counters the window's (before, one that started
// within the first three seconds was never chosen and a bystander was
// traced instead); a reused PID is a new process; in a later window only
// processes that began their IO in it are weighed — never the old writer,
// already weighed in the first.
func TestSelectTargetsNewProcesses(t *testing.T) {
	first := map[int]*procSnap{
		10: snap(100, "old-writer", 1000, 10),
		20: snap(100, "bystander", 0, 0),
		30: snap(100, "gone-before", 0, 0),
		50: snap(100, "exec-writer", 0, 0),
	}
	last := map[int]*procSnap{
		10: snap(100, "old-writer", 2000, 20),      // +1000 bytes
		20: snap(100, "bystander", 10, 1),          // +10
		30: snap(900, "reused-pid", 50<<20, 5),     // a new process under an old PID
		40: snap(800, "new-writer", 100<<20, 1000), // started in the window
		50: snap(100, "exec-writer", 60<<20, 600),  // no IO before the window
	}
	names := func(ts []*target) map[string]bool {
		out := map[string]bool{}
		for _, t := range ts {
			out[t.comm] = true
		}
		return out
	}
	got := names(selectTargets(first, last, nil, 1, nil, map[int]bool{}, false, 0))
	if !got["new-writer"] || got["bystander"] {
		t.Errorf("first window, top 1 by each ranking: %v", got)
	}
	got = names(selectTargets(first, last, nil, 3, nil, map[int]bool{40: true}, true, 0))
	if !got["reused-pid"] || !got["exec-writer"] || got["old-writer"] || got["new-writer"] {
		t.Errorf("later window, new processes only, 40 already a target: %v", got)
	}
}

// A heartbeat whose few synchronous writes each wait behind a bulk
// writer's data moves fewer bytes and makes fewer calls than the busy
// bystanders of a loaded node, and its own requests hold little device
// time: its synchronous write requests still make it a target.
func TestSelectTargetsSynchronousWriter(t *testing.T) {
	first := map[int]*procSnap{
		1: snap(100, "bulk", 0, 0), 2: snap(100, "heartbeat", 0, 0),
		3: snap(100, "compiler", 0, 0), 4: snap(100, "shell", 0, 0), 5: snap(100, "linker", 0, 0),
	}
	last := map[int]*procSnap{
		1: snap(100, "bulk", 300<<20, 300), 2: snap(100, "heartbeat", 12<<10, 33),
		3: snap(100, "compiler", 40<<20, 900), 4: snap(100, "shell", 20<<20, 700), 5: snap(100, "linker", 30<<20, 500),
	}
	dev := newDeviceTimer()
	dev.byPID = map[int]int64{1: 2e9, 2: 3e7, 3: 2e8, 4: 1e8, 5: 1.5e8}
	dev.syncWrites = map[int]int64{1: 300, 2: 33}
	var got []string
	for _, tg := range selectTargets(first, last, dev, 2, nil, map[int]bool{}, false, 0) {
		got = append(got, tg.comm)
		if tg.comm == "heartbeat" && tg.info.Reasons[0] != "top synchronous write requests (#2, 33 in the first window)" {
			t.Errorf("heartbeat chosen for %v", tg.info.Reasons)
		}
	}
	if !slices.Contains(got, "heartbeat") {
		t.Errorf("targets %v, want the heartbeat among them", got)
	}
}

// A snapshot agent's shell loop runs sync(1) as a new process each time:
// the calls of the running one and of those already gone are the agent's,
// and the agent is a target (traced with -f, it shows every call); a
// daemon that calls syncfs itself is credited with its own calls.
func TestSelectTargetsSyncAgent(t *testing.T) {
	first := map[int]*procSnap{
		1: snap(100, "ingest", 0, 0), 2: snap(100, "agent", 0, 0), 3: snap(100, "backupd", 0, 0),
	}
	last := map[int]*procSnap{
		1: snap(100, "ingest", 300<<20, 300), 2: snap(100, "agent", 0, 0), 3: snap(100, "backupd", 0, 0),
		40: snap(200, "sync", 0, 0),
	}
	last[40].stat.PPID = 2
	last[3].stat.PPID = 1
	dev := newDeviceTimer()
	dev.syncCalls = map[syncCaller]int64{{40, "sync"}: 1, {31, "sync"}: 1, {35, "sync"}: 1, {3, "backupd"}: 2}
	by := dev.syncCallsBy(first, last)
	if by[2] != 3 || by[3] != 2 || by[40] != 0 {
		t.Errorf("calls by process %v, want the agent 3 and backupd 2", by)
	}
	var got []string
	for _, tg := range selectTargets(first, last, dev, 1, nil, map[int]bool{}, false, 0) {
		got = append(got, tg.comm)
	}
	if !slices.Contains(got, "agent") {
		t.Errorf("targets %v, want the agent", got)
	}
	// No sync(1) is running at the last tick (each lives a fraction of a
	// second): one seen in an earlier tick of the window names the agent.
	delete(last, 40)
	if by := dev.syncCallsBy(first, last); by[2] != 0 {
		t.Errorf("with no caller seen, calls by process %v credit the agent", by)
	}
	dev.seen = func(pid int) (string, int, bool) {
		if pid == 31 {
			return "sync", 2, true
		}
		return "", 0, false
	}
	if by := dev.syncCallsBy(first, last); by[2] != 3 {
		t.Errorf("calls by process %v, want the agent 3 from a caller seen in an earlier tick", by)
	}
	// No caller seen in any tick, but the trace saw the forks: the
	// agent ran 31 directly and 35 through a shell (60) gone too.
	dev.seen = nil
	dev.addEvent(forkEvent(2, 31))
	dev.addEvent(forkEvent(2, 60))
	dev.addEvent(forkEvent(60, 35))
	if by := dev.syncCallsBy(first, last); by[2] != 2 || by[31] != 0 || by[35] != 0 || by[60] != 0 || by[3] != 2 {
		t.Errorf("calls by process %v, want the agent 2 by the fork events (40's fork not traced) and backupd 2", by)
	}
	// A fork's record of a caller running through the whole window
	// changes nothing, even with its parent running too: its calls are
	// its own.
	dev.addEvent(forkEvent(2, 3))
	if by := dev.syncCallsBy(first, last); by[3] != 2 || by[2] != 2 {
		t.Errorf("calls by process %v, want backupd's 2 its own and the agent's 2", by)
	}
}

// Past maxForks the forks are counted, not kept: the collection puts the
// bound in the manifest.
func TestDeviceTimerForksBounded(t *testing.T) {
	dev := newDeviceTimer()
	for child := range maxForks + 3 {
		dev.addEvent(forkEvent(2, 1000+child))
	}
	if len(dev.forkedBy) != maxForks || dev.forksDropped != 3 {
		t.Errorf("%d forks kept, %d dropped; want %d and 3", len(dev.forkedBy), dev.forksDropped, maxForks)
	}
}

// forkEvent is sched_process_fork as the trace gives it: in the parent's
// context, naming the child.
func forkEvent(parent, child int) ftrace.Event {
	return ftrace.Event{Comm: "bash", PID: parent, TGID: parent, Name: "sched_process_fork",
		Fields: []byte(fmt.Sprintf("comm=bash pid=%d child_comm=bash child_pid=%d", parent, child))}
}

// The collector's tracers are never targets: a strace writing its
// output fast outranks the writers it traces, and was once chosen, so
// that a strace traced the strace tracing the culprit (metadata-scan's
// first capture). Other children of the collector's process are (a
// collector run inside a test is the parent of the test's workloads).
func TestTracersAreNotTargets(t *testing.T) {
	const self = 500
	first := map[int]*procSnap{}
	last := map[int]*procSnap{
		600: snap(100, "strace", 90<<20, 9000), // the collector's tracer
		700: snap(100, "writer", 1<<20, 100),
		701: snap(100, "writer-child", 1<<20, 100),
		702: snap(100, "workload", 1<<20, 100),
	}
	last[600].stat.PPID = self
	last[701].stat.PPID = 700
	last[702].stat.PPID = self
	exclude := notTargets(self, []*target{{pid: 700}}, []int{600})
	var pids []int
	for _, t := range selectTargets(first, last, nil, 3, nil, exclude, false, 0) {
		pids = append(pids, t.pid)
	}
	slices.Sort(pids)
	if !slices.Equal(pids, []int{701, 702}) {
		t.Errorf("targets %v, want 701 and 702 (600 is the collector's strace, 700 a target already)", pids)
	}
}

// A task whose wait began while delay accounting was off reads about the
// uptime in field 42 when the wait ends: with the collector having turned
// accounting on, a wait longer than the time since is no wait, and does
// not make a sync(1) the top waiter; a real wait still ranks.
func TestSelectTargetsImpossibleWait(t *testing.T) {
	first := map[int]*procSnap{}
	last := map[int]*procSnap{1: snap(900, "sync", 0, 0), 2: snap(100, "reader", 0, 0)}
	last[1].stat.DelayAcctBlkioTicks = 4944656
	last[2].stat.DelayAcctBlkioTicks = 150
	got := selectTargets(first, last, nil, 1, nil, map[int]bool{}, false, 300)
	if len(got) != 1 || got[0].comm != "reader" {
		var names []string
		for _, tg := range got {
			names = append(names, tg.comm)
		}
		t.Errorf("targets %v, want the reader only", names)
	}
}
