package ftrace

import (
	"fmt"
	"testing"
)

// A line of this kernel's writeback_single_inode, from the dirty-throttled
// sample's block trace (samples/dirty-throttled.tar.zst, trace/block.txt).
func TestParseSingleInode(t *testing.T) {
	w, err := ParseSingleInode([]byte("bdi 7:0: ino=12 state=I_DIRTY_PAGES|I_SYNC|I_SYNC_QUEUED dirtied_when=4297566521 age=3 index=4096 to_write=1024 wrote=1024 cgroup_ino=1"))
	if err != nil || w.BDI != (Dev{Major: 7}) || w.Ino != 12 || w.Wrote != 1024 {
		t.Errorf("got %+v, %v", w, err)
	}
	for _, bad := range []string{"", "bdi 7:0: ino=12", "bdi x: ino=1 wrote=2", "ino=1 wrote=2"} {
		if _, err := ParseSingleInode([]byte(bad)); err == nil {
			t.Errorf("ParseSingleInode(%q) accepted it", bad)
		}
	}
}

// sched_process_fork as this machine (6.18) printed a bash forking, and a
// comm with spaces, which is cut from the right.
func TestParseFork(t *testing.T) {
	f, err := ParseFork([]byte("comm=bash pid=24564 child_comm=bash child_pid=24573"))
	if err != nil || f != (Fork{Parent: 24564, Child: 24573, ChildComm: "bash"}) {
		t.Fatalf("got %+v, %v", f, err)
	}
	f, err = ParseFork([]byte("comm=Web Content pid=900 child_comm=Web Content pid=1 child_pid=901"))
	if err != nil || f.Parent != 900 || f.Child != 901 || f.ChildComm != "Web Content pid=1" {
		t.Fatalf("got %+v, %v", f, err)
	}
	for _, bad := range []string{"", "comm=bash pid=1", "comm=bash pid=x child_comm=bash child_pid=2", "pid=1 child_comm=a child_pid=2"} {
		if _, err := ParseFork([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// writeback_queue as a sync(1) call printed it on this machine (6.18),
// and writeback_written from the flusher that did the work.
func TestParseWork(t *testing.T) {
	w, err := ParseWork([]byte("bdi 7:0: sb_dev 7:0 nr_pages=9223372036854775807 sync_mode=1 kupdate=0 range_cyclic=0 background=0 reason=sync cgroup_ino=1"))
	if err != nil || w.BDI != (Dev{Major: 7}) || w.SbDev != (Dev{Major: 7}) || w.Reason != "sync" || !w.SyncAll {
		t.Fatalf("got %+v, %v", w, err)
	}
	w, err = ParseWork([]byte("bdi 254:0: sb_dev 0:0 nr_pages=1024 sync_mode=0 kupdate=1 range_cyclic=1 background=1 reason=periodic cgroup_ino=1"))
	if err != nil || w.Reason != "periodic" || w.SyncAll || w.SbDev != (Dev{}) {
		t.Fatalf("got %+v, %v", w, err)
	}
	if _, err := ParseWork([]byte("bdi 7:0: sb_dev 7:0 nr_pages=1")); err == nil {
		t.Error("no reason: want an error")
	}
}

// Ancestor walks the recorded forks up to the first process kept,
// through those not kept; a chain that leaves the trace or reaches init
// names none.
func TestForksAncestor(t *testing.T) {
	f := Forks{}
	for _, fk := range [][2]int{{700, 701}, {701, 702}, {1, 700}, {5, 900}} {
		if !f.Add(Event{PID: fk[0], TGID: fk[0], Name: "sched_process_fork", Fields: fmt.Appendf(nil, "comm=sh pid=%d child_comm=sh child_pid=%d", fk[0], fk[1])}) {
			t.Fatalf("fork %v not recorded", fk)
		}
	}
	if f.Add(Event{Name: "sched_process_fork", Fields: []byte("comm=sh")}) {
		t.Error("a malformed fork was recorded")
	}
	agent := func(pid int) bool { return pid == 700 }
	if p, ok := f.Ancestor(702, agent); !ok || p != 700 {
		t.Errorf("702's agent: %d %v, want 700 through 701", p, ok)
	}
	if _, ok := f.Ancestor(700, agent); ok {
		t.Error("700, forked by init: want none")
	}
	if _, ok := f.Ancestor(900, agent); ok {
		t.Error("900, whose parent's fork is not in the trace: want none")
	}
}
