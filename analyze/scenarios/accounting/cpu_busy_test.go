package accounting

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21: the judgement is the same on a node whose CPUs are saturated.
// The buffered writer of issue 9's third scenario (8 MiB/s to a slow disk,
// its dirty pages bounded so that writeback runs during the capture), with
// busy loops of the test's own on every CPU beside it: the writer is still
// the culprit, through the pages it dirtied.
func TestVerdictWithCPUsBusy(t *testing.T) {
	_, mnt := workload.WritebackDisk(t, "20ms")
	w := workload.StartWriter(t, "--file", filepath.Join(mnt, "export.csv"), "--size", "65536", "--sync", "none", "--rate", "128", "--max-bytes", "256MiB")
	for range runtime.NumCPU() {
		workload.Start(t, "sh", "-c", "while :; do :; done")
	}
	cfg := livetest.Config(t, 8*time.Second)
	r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
	if c := r.Verdict.Culprit; c == nil || c.PID != w.Process.Pid {
		t.Errorf("with the CPUs busy, culprit %+v, want the buffered writer %d:\n%s", c, w.Process.Pid, md)
	}
}
