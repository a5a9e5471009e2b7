package collector

import (
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/nodestate"
)

// enableDelayAcct turns kernel.task_delayacct on for the run, as iotop
// does: field 42 of /proc/PID/stat then counts every task's wait for
// block IO. It goes through the node's state (nodestate): a collector
// running at the same time shares it, and the original value is kept
// once. It returns what was done, for the manifest and the restore.
func enableDelayAcct(reg *nodestate.Run, set bool) *bundle.DelayAcct {
	da := &bundle.DelayAcct{}
	if !set {
		before, err := nodestate.ReadDelayAcct()
		da.Before = before
		if err != nil {
			da.Error = err.Error()
		}
		return da
	}
	before, enabled, err := reg.EnableDelayAcct()
	da.Before, da.Enabled = before, enabled
	if err != nil {
		da.Error = err.Error()
	}
	return da
}

// restoreDelayAcct gives up the run's need of kernel.task_delayacct: it is
// put back as it was when no other collector still running needs it.
func restoreDelayAcct(reg *nodestate.Run, da *bundle.DelayAcct) {
	if da == nil || !da.Enabled || da.Restored || da.LeftOn {
		return
	}
	restored, err := reg.ReleaseDelayAcct()
	if err != nil {
		da.Error = "restore: " + err.Error()
		return
	}
	da.Restored, da.LeftOn = restored, !restored
}
