package mechanisms

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// slowExt4 is ext4 on a slow disk whose every write request waits
// wdelay (nbdkit's delay filter under a loop device): its mount point and
// the device's name (loopN).
func slowExt4(t *testing.T, wdelay string) (string, string) {
	t.Helper()
	dev := workload.SlowDisk(t, 512, "delay", "wdelay="+wdelay)
	return workload.Ext4On(t, dev), filepath.Base(dev)
}

// checkVerdict checks that the verdict names the culprit PID and rests
// on the mechanism finding, and that the finding is about the culprit.
// A machine shared with other tests may hold another failing device
// (a loop device left behind with its backing file gone): its recent
// errors rightly take the verdict (kernel-io-errors), so then only the
// finding is checked, and the test says so.
func checkVerdict(t *testing.T, r reporttest.Report, dev string, pid int, mechanism string) {
	t.Helper()
	cp := r.Verdict.Culprit
	if cp != nil && cp.Kind == "device" && cp.Device != dev && r.Verdict.Primary == "kernel-io-errors" {
		t.Logf("another device on this machine, %s, is failing and takes the verdict; checking the %s finding only", cp.Device, mechanism)
	} else if cp == nil || cp.PID != pid || r.Verdict.Primary != mechanism {
		t.Errorf("verdict: culprit %+v, primary %s; want PID %d and %s", cp, r.Verdict.Primary, pid, mechanism)
	}
	// A finding of the mechanism about the process the test started; one
	// about another process of this shared machine (a test in another
	// package that calls sync, say) is that process's own, and allowed.
	about := false
	for _, f := range r.Findings {
		if f.ID != mechanism {
			continue
		}
		if len(f.Subjects.PIDs) > 0 && f.Subjects.PIDs[0] == pid {
			about = true
		} else {
			t.Logf("%s also about %v, a process this test did not start", mechanism, f.Subjects.PIDs)
		}
	}
	if !about {
		t.Errorf("no %s finding about PID %d", mechanism, pid)
	}
	reporttest.CheckFindings(t, r, []string{mechanism}, nil)
}

// captureReport lets the workloads settle, collects 6 s (targets picked
// after 2 s) and reports through the real iorca binary.
func captureReport(t *testing.T) (reporttest.Report, string) {
	t.Helper()
	time.Sleep(2 * time.Second)
	cfg := livetest.Config(t, 6*time.Second)
	cfg.SelectAfter = 2 * time.Second
	return reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
}
