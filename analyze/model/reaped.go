package model

import (
	"slices"
	"strings"

	"github.com/iorca/iorca/internal/procfs"
)

// A parent is never charged for its reaped children (REFERENCE-IO.md §14):
// when a process reaps a child, the kernel adds the child's IO counters to
// the parent's (wait_task_zombie), so the parent's /proc/PID/io jumps by
// all the child did — a shell's write_bytes by a dd's 50 MiB the moment it
// reaps it. In an interval in which a process reaped a child (its
// children's CPU time, cutime+cstime, grew, or a child it had seen ended),
// the growth of its IO counters is its children's: what the ended
// children showed in their own samples is theirs already; the rest, the
// IO of children never sampled (or of their last moments), goes to one
// process per parent that stands for them (Process.ReapedBy); none stays
// with the parent.

// unreap moves reaped children's IO off their parents.
func (m *Model) unreap() {
	children := map[int][]*Process{}
	for _, p := range m.Procs {
		children[p.PPID] = append(children[p.PPID], p)
	}
	var stand []*Process
	for _, p := range m.Procs {
		if p.Kernel || len(p.Points) < 2 {
			continue
		}
		var kids []*Process
		for _, c := range children[p.PID] {
			if c.Start >= p.Start && c != p {
				kids = append(kids, c)
			}
		}
		if s := m.unreapOne(p, kids); s != nil {
			stand = append(stand, s)
		}
	}
	m.Procs = append(m.Procs, stand...)
}

// unreapOne takes the reaped children's IO off p, and returns the process
// that stands for its children never sampled (nil when there is none).
func (m *Model) unreapOne(p *Process, kids []*Process) *Process {
	var s *Process
	var acc procfs.PIDIO
	var accCPU, accSys uint64
	// off is the jumps taken off so far: every point from the first jump
	// on is lower by them, applied as the loop reaches it (once a point,
	// not once a jump a point). a and b are the points as sampled: a
	// jump is the same difference either way.
	var off procfs.PIDIO
	b := p.Points[0]
	for i := 1; i < len(p.Points); i++ {
		a := b
		b = p.Points[i]
		p.Points[i].IO = subIO(p.Points[i].IO, off)
		if !a.HasIO || !b.HasIO {
			continue
		}
		jump := subIO(b.IO, a.IO)
		if jump == (procfs.PIDIO{}) {
			continue
		}
		// The children that ended in (a.Tick, b.Tick]: sampled last
		// before b.Tick, and never after.
		var ended []*Process
		for _, c := range kids {
			if c.Last >= a.Tick && c.Last < b.Tick {
				ended = append(ended, c)
			}
		}
		if b.ChildTicks <= a.ChildTicks && len(ended) == 0 {
			continue
		}
		// None of the jump is the parent's: from here on its counters
		// are lower by it.
		off = addIO(off, jump)
		p.Points[i].IO = subIO(p.Points[i].IO, jump)
		unseen := jump
		for _, c := range ended {
			if last := c.Points[len(c.Points)-1]; last.HasIO {
				unseen = clampSubIO(unseen, last.IO)
			}
		}
		if unseen == (procfs.PIDIO{}) {
			continue
		}
		if s == nil {
			s = &Process{PID: -p.PID, Start: p.Start, Comm: ReapedComm(p.Comm), PPID: p.PID, Cgroups: p.Cgroups,
				Container: p.Container, Collector: p.Collector, ReapedBy: p.PID, First: a.Tick, Last: p.Last,
				Points: []Point{{Tick: a.Tick, Mono: a.Mono, State: 'S', Counters: Counters{HasIO: true}}}}
		}
		acc = addIO(acc, unseen)
		if b.ChildTicks > a.ChildTicks {
			accCPU += b.ChildTicks - a.ChildTicks
		}
		if b.ChildSysTicks > a.ChildSysTicks {
			accSys += b.ChildSysTicks - a.ChildSysTicks
		}
		s.Points = append(s.Points, Point{Tick: b.Tick, Mono: b.Mono, State: 'S', Counters: Counters{IO: acc, HasIO: true}, CPUTicks: accCPU, SysTicks: accSys})
	}
	if s != nil {
		s.Points = slices.CompactFunc(s.Points, func(x, y Point) bool { return x.Tick == y.Tick })
	}
	return s
}

// clampSubIO is a - b field by field, never below 0.
func clampSubIO(a, b procfs.PIDIO) procfs.PIDIO {
	sub := func(x, y int64) int64 { return max(0, x-y) }
	return procfs.PIDIO{RChar: sub(a.RChar, b.RChar), WChar: sub(a.WChar, b.WChar), SyscR: sub(a.SyscR, b.SyscR), SyscW: sub(a.SyscW, b.SyscW),
		ReadBytes: sub(a.ReadBytes, b.ReadBytes), WriteBytes: sub(a.WriteBytes, b.WriteBytes), CancelledWriteBytes: sub(a.CancelledWriteBytes, b.CancelledWriteBytes)}
}

func addIO(a, b procfs.PIDIO) procfs.PIDIO {
	return procfs.PIDIO{RChar: a.RChar + b.RChar, WChar: a.WChar + b.WChar, SyscR: a.SyscR + b.SyscR, SyscW: a.SyscW + b.SyscW,
		ReadBytes: a.ReadBytes + b.ReadBytes, WriteBytes: a.WriteBytes + b.WriteBytes, CancelledWriteBytes: a.CancelledWriteBytes + b.CancelledWriteBytes}
}

// reapedPrefix names the process that stands for a parent's unseen
// children: "children of bash".
const reapedPrefix = "children of "

// ReapedComm is the command name of the process that stands for the
// unseen children of a process called comm.
func ReapedComm(comm string) string { return reapedPrefix + comm }

// ReaperComm is the command name of the parent of a process that stands
// for its unseen children.
func (p *Process) ReaperComm() string { return strings.TrimPrefix(p.Comm, reapedPrefix) }
