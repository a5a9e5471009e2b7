package model

import (
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

func pt(tick int, write int64, child uint64) Point {
	return Point{Tick: tick, Counters: Counters{IO: procfs.PIDIO{WriteBytes: write}, HasIO: true}, ChildTicks: child}
}

// Worked by hand: a shell (PID 10) writes 1 KiB itself between ticks 0
// and 1; a child it had seen (PID 11, 5 MiB by its last sample at tick 1)
// ends and is reaped between ticks 1 and 2, with 1 MiB more written after
// its last sample; a child never seen writes 3 MiB and is reaped between
// ticks 3 and 4 (its CPU time shows in cutime). The shell keeps its own
// kilobyte; the unseen 1 MiB and 3 MiB are its exited children's.
func TestUnreap(t *testing.T) {
	const mib = 1 << 20
	shell := &Process{PID: 10, Start: 100, Comm: "bash", First: 0, Last: 4, Points: []Point{
		pt(0, 0, 0), pt(1, 1024, 0), pt(2, 1024+6*mib, 5), pt(4, 1024+9*mib, 9),
	}}
	child := &Process{PID: 11, PPID: 10, Start: 150, Comm: "dd", First: 0, Last: 1, Points: []Point{pt(0, 2*mib, 0), pt(1, 5*mib, 0)}}
	m := &Model{Procs: []*Process{shell, child}}
	m.unreap()
	want := []int64{0, 1024, 1024, 1024}
	for i, p := range shell.Points {
		if p.IO.WriteBytes != want[i] {
			t.Errorf("shell at tick %d: write_bytes %d, want %d", p.Tick, p.IO.WriteBytes, want[i])
		}
	}
	if len(m.Procs) != 3 {
		t.Fatalf("%d processes, want the shell, its child and its exited children", len(m.Procs))
	}
	kids := m.Procs[2]
	if kids.ReapedBy != 10 || kids.PID != -10 || kids.ReaperComm() != "bash" || kids.PPID != 10 {
		t.Fatalf("exited children: %+v", kids)
	}
	last := kids.Points[len(kids.Points)-1]
	if last.IO.WriteBytes != 4*mib || last.Tick != 4 || kids.First != 1 || kids.Last != 4 {
		t.Errorf("exited children wrote %d by tick %d (first %d, last %d), want 4 MiB by 4", last.IO.WriteBytes, last.Tick, kids.First, kids.Last)
	}
	if child.Points[1].IO.WriteBytes != 5*mib {
		t.Errorf("the seen child's own counters changed: %d", child.Points[1].IO.WriteBytes)
	}
}
