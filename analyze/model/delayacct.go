package model

// Delay accounting (kernel.task_delayacct) gives a task IO delay figures
// only when it was on as the task started: the kernel allocates a task's
// delay struct at fork only while it is on (Documentation/accounting/
// delay-accounting.rst: "only tasks started after enabling it will have
// delayacct information"; REFERENCE-IO.md §2). A task started before
// reads 0 in /proc/PID/stat field 42 however long it waited.

// DelayAcctUnknown says why a process has no delay figures over the
// capture ("" when it has them, or when the bundle cannot tell): the
// sysctl was off, or the process started before the collector turned it
// on (its start time, in clock ticks after boot, before the capture's
// start on CLOCK_BOOTTIME) and none of its threads counted a tick — a
// thread created after it was turned on has figures of its own.
func (m *Model) DelayAcctUnknown(p *ProcIO) string {
	if p == nil || p.Proc == nil || p.Delta.BlkioTicks > 0 || p.MaxThreadBlkio > 0 {
		return ""
	}
	if da := m.Manifest.DelayAcct; da != nil {
		switch {
		case da.Before == "1":
			return ""
		case da.Enabled:
			hz := m.Manifest.Host.UserHZ
			if hz <= 0 || p.Proc.ReapedBy != 0 {
				return ""
			}
			if float64(p.Proc.Start)/float64(hz) < float64(m.Manifest.Start.BootNS)/1e9 {
				return "started before the collector turned kernel.task_delayacct on"
			}
			return ""
		}
	}
	if m.Sysctl["kernel/task_delayacct"] == "0" {
		return "kernel.task_delayacct was 0"
	}
	return ""
}
