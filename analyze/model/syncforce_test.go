package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// syncBurst is the sync-caller sample's block trace around one sync(1)
// call (kernel 6.18): the caller queues the waiting pass for the root
// filesystem only (loop0's was already clean), after sync(2) woke every
// flusher: a pass with reason=sync over every filesystem of loop0
// (sb_dev 0:0), whose requests the flusher unplugs just after its
// writeback_written.
const syncBurst = `          ingest-19214   (  19211) [000] d..1. 23041.301754: writeback_dirty_folio: bdi 7:0: ino=12 index=1648
            sync-19249   (  19249) [000] .N... 23041.468851: writeback_queue: bdi 254:0: sb_dev 254:0 nr_pages=9223372036854775807 sync_mode=1 kupdate=0 range_cyclic=0 background=0 reason=sync cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ...1. 23041.468863: writeback_start: bdi 7:0: sb_dev 0:0 nr_pages=157948 sync_mode=0 kupdate=0 range_cyclic=1 background=0 reason=sync cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ..... 23041.468943: writeback_single_inode: bdi 7:0: ino=13 state=I_SYNC|I_SYNC_QUEUED dirtied_when=4300652490 age=0 index=44 to_write=16384 wrote=7 cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ..... 23041.469005: writeback_single_inode: bdi 7:0: ino=12 state=I_SYNC|I_SYNC_QUEUED dirtied_when=4300652492 age=0 index=0 to_write=16384 wrote=224 cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ..... 23041.469007: writeback_single_inode: bdi 7:0: ino=7340032 state=I_SYNC|I_SYNC_QUEUED dirtied_when=4300652540 age=0 index=0 to_write=16384 wrote=0 cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ...1. 23041.469008: writeback_written: bdi 7:0: sb_dev 0:0 nr_pages=157717 sync_mode=0 kupdate=0 range_cyclic=1 background=0 reason=sync cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ...1. 23041.469009: writeback_start: bdi 7:0: sb_dev 0:0 nr_pages=157717 sync_mode=0 kupdate=0 range_cyclic=1 background=0 reason=sync cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ...1. 23041.469009: writeback_written: bdi 7:0: sb_dev 0:0 nr_pages=157717 sync_mode=0 kupdate=0 range_cyclic=1 background=0 reason=sync cgroup_ino=1
    kworker/u8:1-13231   (  13231) [000] ..... 23041.469012: block_rq_issue: 7,0 W 28672 () 264960 + 56 be,0,4 [kworker/u8:1]
    kworker/u8:1-13231   (  13231) [000] ..... 23041.469015: block_rq_issue: 7,0 W 65536 () 284544 + 128 be,0,4 [kworker/u8:1]
     ksoftirqd/1-24      (     24) [001] ..s.. 23041.481603: block_rq_complete: 7,0 W () 264960 + 56 be,0,4 [0]
     ksoftirqd/1-24      (     24) [001] ..s.. 23041.492897: block_rq_complete: 7,0 W () 284544 + 128 be,0,4 [0]
`

// A periodic pass of another flusher: its requests are the kernel's own
// schedule, not forced.
const periodicPass = `    kworker/u8:4-27590   (  27590) [000] ...1. 23041.470000: writeback_start: bdi 7:0: sb_dev 0:0 nr_pages=1024 sync_mode=0 kupdate=1 range_cyclic=1 background=0 reason=periodic cgroup_ino=1
    kworker/u8:4-27590   (  27590) [000] ...1. 23041.470100: writeback_written: bdi 7:0: sb_dev 0:0 nr_pages=1000 sync_mode=0 kupdate=1 range_cyclic=1 background=0 reason=periodic cgroup_ino=1
    kworker/u8:4-27590   (  27590) [000] ..... 23041.470200: block_rq_issue: 7,0 W 4096 () 900000 + 8 be,0,4 [kworker/u8:4]
     ksoftirqd/1-24      (     24) [001] ..s.. 23041.495000: block_rq_complete: 7,0 W () 900000 + 8 be,0,4 [0]
`

func TestSyncForcedWriteback(t *testing.T) {
	bt := ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(syncBurst+periodicPass))
	if bt.Malformed != 0 || len(bt.Requests) != 3 {
		t.Fatalf("%d malformed, %d requests", bt.Malformed, len(bt.Requests))
	}
	caller := Task{PID: 19249, Comm: "sync"}
	if len(bt.SyncCalls) != 1 || bt.SyncCalls[0].Task != caller || bt.SyncCalls[0].BDI != (procfs.Dev{Major: 254}) {
		t.Fatalf("calls %+v", bt.SyncCalls)
	}
	// The two writeback_start of one work are one pass.
	if len(bt.Passes) != 2 || !bt.Passes[0].Sync || bt.Passes[0].SbDev != (procfs.Dev{}) || bt.Passes[1].Sync {
		t.Fatalf("passes %+v", bt.Passes)
	}
	forced := bt.forcedBy()
	n := 0
	for r, t0 := range forced {
		if t0 != caller || r.PID != 13231 {
			t.Errorf("request %+v forced by %+v", r.Request, t0)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d requests forced, want the sync pass's 2 (not the periodic one)", n)
	}
	if !bt.wakeAllCallers()[caller] {
		t.Error("sync(2)'s wake-up pass over every filesystem is not tied to its caller")
	}
	// Charged: the caller holds the forced writeback; the pages were
	// ingest's (it dirtied inode 12 on loop0).
	m := &Model{BlockTrace: bt, Blocks: map[string]*Block{"loop0": {Name: "loop0", Dev: procfs.Dev{Major: 7}}}}
	dt := m.DeviceTimes()["loop0"]
	s := dt.Find(19249)
	if s == nil || s.ForcedNS <= 0 || s.ForcedOf[Task{PID: 19211, Comm: "ingest"}] <= 0 {
		t.Fatalf("the caller's share %+v", s)
	}
}

// syncfs(2) queues a pass that does not wait and then one that does: one
// call. A task's two sync(2) calls half a second apart are two.
func TestSyncCallsCounted(t *testing.T) {
	line := func(ts, mode string) string {
		return "    backup-500   (    500) [000] ..... " + ts + ": writeback_queue: bdi 7:0: sb_dev 7:0 nr_pages=1 sync_mode=" + mode + " kupdate=0 range_cyclic=0 background=0 reason=sync cgroup_ino=1\n"
	}
	text := line("100.000000", "0") + line("100.030000", "1") + line("100.030500", "1") + line("100.500000", "1") + line("101.000000", "0") + line("101.010000", "1")
	bt := ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(text))
	if cs := bt.SyncCallers(); len(cs) != 1 || cs[0].Calls != 3 || !cs[0].Syncfs {
		t.Errorf("callers %+v, want one with 3 calls", cs)
	}
	// A kernel thread's sync work (a freeze, an unmount) is no call.
	bt = ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(strings.ReplaceAll(line("100.0", "1"), "backup-500 ", "kworker/0:1-500 ")))
	if len(bt.SyncCalls) != 0 {
		t.Errorf("a kworker's sync work counted: %+v", bt.SyncCalls)
	}
}

// A sync(1) that no tick saw is charged to the agent that ran it by the
// trace's fork events, through a shell between them gone as well; with
// the forks left out, nothing names the agent and the caller stands
// alone.
func TestSyncAgentByForks(t *testing.T) {
	fork := func(ts, comm string, parent, child int) string {
		return fmt.Sprintf("    %s-%d   (  %d) [000] ..... %s: sched_process_fork: comm=%s pid=%d child_comm=%s child_pid=%d\n", comm, parent, parent, ts, comm, parent, comm, child)
	}
	call := func(ts string, pid int) string {
		return fmt.Sprintf("    sync-%d   (  %d) [000] ..... %s: writeback_queue: bdi 7:0: sb_dev 7:0 nr_pages=1 sync_mode=1 kupdate=0 range_cyclic=0 background=0 reason=sync cgroup_ino=1\n", pid, pid, ts)
	}
	forks := fork("100.000000", "snapshot-agent", 700, 701) + fork("100.000100", "sh", 701, 702) + fork("100.400000", "snapshot-agent", 700, 703)
	calls := call("100.001000", 702) + call("100.401000", 703)
	agent := &Process{PID: 700, Comm: "snapshot-agent", PPID: 1, First: 0, Last: 2}
	for _, tc := range []struct {
		text string
		want Task
	}{
		{forks + calls, Task{PID: 700, Comm: "snapshot-agent"}},
		{calls, Task{PID: 702, Comm: "sync"}},
	} {
		bt := ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(tc.text))
		if bt.Malformed != 0 {
			t.Fatalf("%d malformed lines", bt.Malformed)
		}
		m := &Model{BlockTrace: bt, Procs: []*Process{agent}, Ticks: make([]*Tick, 3)}
		as := m.SyncAgents()
		if len(as) == 0 || as[0].Task != tc.want {
			t.Errorf("agents %+v, want %v first", as, tc.want)
		}
	}
}
