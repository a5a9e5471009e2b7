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
