package model

import (
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// A hand-made model: the collector turned task_delayacct on at the
// capture's start (boot time 100 s, USER_HZ 100). A task started before
// with no tick counted has no figures; one started after has; one
// started before whose later thread counted ticks has them.
func TestDelayAcctUnknown(t *testing.T) {
	m := &Model{Manifest: &bundle.Manifest{DelayAcct: &bundle.DelayAcct{Before: "0", Enabled: true}}, Sysctl: map[string]string{}}
	m.Manifest.Start.BootNS = 100e9
	m.Manifest.Host.UserHZ = 100
	before := &ProcIO{Proc: &Process{PID: 1, Start: 9000}}
	after := &ProcIO{Proc: &Process{PID: 2, Start: 10100}}
	thread := &ProcIO{Proc: &Process{PID: 3, Start: 9000}, MaxThreadBlkio: 5}
	if m.DelayAcctUnknown(before) == "" || m.DelayAcctUnknown(after) != "" || m.DelayAcctUnknown(thread) != "" {
		t.Errorf("before %q, after %q, thread %q", m.DelayAcctUnknown(before), m.DelayAcctUnknown(after), m.DelayAcctUnknown(thread))
	}
	// On before the capture: every task has figures.
	m.Manifest.DelayAcct.Before = "1"
	if m.DelayAcctUnknown(before) != "" {
		t.Error("task_delayacct was on before the capture")
	}
	// Off all along (no collector setting): nobody has them.
	m.Manifest.DelayAcct = nil
	m.Sysctl["kernel/task_delayacct"] = "0"
	if m.DelayAcctUnknown(after) == "" {
		t.Error("task_delayacct was 0")
	}
}

// A process born during the capture whose field 42 reads more ticks than
// it has lived (a wait begun while delay accounting was off, counted
// from time zero: about the uptime, seen on a go build) has no delay
// figure; one within its age keeps it.
func TestBlkioBeyondAge(t *testing.T) {
	m := &Model{Manifest: &bundle.Manifest{}}
	m.Manifest.Host.UserHZ = 100
	for k := 0; k < 3; k++ {
		tk := &Tick{N: k, Mono: int64(k) * 1e9, HasUptime: true}
		tk.Uptime.Centiseconds = uint64(2308000 + 100*k)
		m.Ticks = append(m.Ticks, tk)
	}
	born := func(pid int, blkio uint64) *Process {
		return &Process{PID: pid, Start: 2308050, First: 1, Last: 2, Points: []Point{
			{Tick: 1, Mono: 1e9}, {Tick: 2, Mono: 2e9, Counters: Counters{BlkioTicks: blkio}}}}
	}
	m.Procs = []*Process{born(1, 2308929), born(2, 120)}
	got := map[int]uint64{}
	for _, p := range m.ProcessIO(0, 2) {
		got[p.Proc.PID] = p.Delta.BlkioTicks
	}
	if got[1] != 0 || got[2] != 120 {
		t.Errorf("blkio ticks %v, want 0 for the impossible figure and 120 kept", got)
	}
}

// The same jump in a process sampled all along (a go build's process
// once read "49089.6 s blocked on IO in 4 s" as an io-victim): with the
// collector turning delay accounting on at the start, no task can have
// counted more delay than the time since, so the jump counts nothing,
// for the process and for its threads; a wait within that time stays,
// and so does a thread whose id a new thread reused is not a negative
// wait.
func TestBlkioJumpOfAWaitBegunBeforeAccounting(t *testing.T) {
	m := &Model{Manifest: &bundle.Manifest{DelayAcct: &bundle.DelayAcct{Before: "0", Enabled: true}}}
	m.Manifest.Host.UserHZ = 100
	for k := 0; k < 3; k++ {
		tk := &Tick{N: k, Mono: int64(k) * 1e9, HasUptime: true, Threads: map[int][]Thread{}}
		tk.Uptime.Centiseconds = uint64(4908000 + 100*k)
		m.Ticks = append(m.Ticks, tk)
	}
	old := func(pid int, blkio0, blkio2 uint64) *Process {
		return &Process{PID: pid, Start: 1000, First: 0, Last: 2, Points: []Point{
			{Tick: 0, Mono: 0, Counters: Counters{BlkioTicks: blkio0}}, {Tick: 2, Mono: 2e9, Counters: Counters{BlkioTicks: blkio2}}}}
	}
	m.Procs = []*Process{old(1, 0, 4908150), old(2, 10, 160)}
	thread := func(tid int, start, blkio uint64) Thread {
		var s Thread
		s.TID, s.Stat.StartTime, s.Stat.DelayAcctBlkioTicks = tid, start, blkio
		return s
	}
	m.Ticks[0].Threads[1] = []Thread{thread(11, 1000, 0), thread(12, 1000, 50)}
	m.Ticks[2].Threads[1] = []Thread{thread(11, 1000, 4908150), thread(12, 4908100, 3)}
	m.Ticks[0].Threads[2] = []Thread{thread(21, 1000, 10)}
	m.Ticks[2].Threads[2] = []Thread{thread(21, 1000, 160)}
	got := map[int][2]uint64{}
	for _, p := range m.ProcessIO(0, 2) {
		got[p.Proc.PID] = [2]uint64{p.Delta.BlkioTicks, p.MaxThreadBlkio}
	}
	if got[1] != [2]uint64{0, 0} || got[2] != [2]uint64{150, 150} {
		t.Errorf("blkio ticks (process, max thread) %v, want [0 0] for the jumps and [150 150] kept", got)
	}
}
