package collector

import (
	"os"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
)

// delayAcctPath is the sysctl that turns per-task delay accounting on.
const delayAcctPath = "/proc/sys/kernel/task_delayacct"

// enableDelayAcct turns kernel.task_delayacct on for the run, as iotop
// does: field 42 of /proc/PID/stat then counts every task's wait for
// block IO. It returns what was done, for the manifest and the restore.
func enableDelayAcct(set bool) *bundle.DelayAcct {
	da := &bundle.DelayAcct{}
	b, err := os.ReadFile(delayAcctPath)
	if err != nil {
		da.Error = err.Error()
		return da
	}
	da.Before = strings.TrimSpace(string(b))
	if !set || da.Before != "0" {
		return da
	}
	if err := os.WriteFile(delayAcctPath, []byte("1"), 0o644); err != nil {
		da.Error = err.Error()
		return da
	}
	da.Enabled = true
	return da
}

// restoreDelayAcct puts kernel.task_delayacct back as it was.
func restoreDelayAcct(da *bundle.DelayAcct) {
	if da == nil || !da.Enabled || da.Restored {
		return
	}
	if err := os.WriteFile(delayAcctPath, []byte(da.Before), 0o644); err != nil {
		da.Error = "restore: " + err.Error()
		return
	}
	da.Restored = true
}
