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
