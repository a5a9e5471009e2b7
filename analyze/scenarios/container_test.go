package scenarios

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// TestReportContainerLogFlood runs the classic incident live: a container
// run by a real containerd and runc prints access-log lines to stdout; the
// shim that copies them into the --log-uri file becomes the top writer.
// The report must blame the container behind the shim.
func TestReportContainerLogFlood(t *testing.T) {
	cd := workload.StartContainerd(t)
	logs, _ := workload.LoopExt4(t, 1024)
	rootfs := workload.Rootfs(t, filepath.Join(t.TempDir(), "rootfs"))
	cd.Run(t, "nginx-logger-12", rootfs, []string{"--log-uri", "file://" + filepath.Join(logs, "nginx-logger-12.log")},
		"/usr/local/bin/access-logger", "--file", "-", "--size", "96", "--rate", "30000")
	time.Sleep(time.Second)
	r, md := reporttest.Analyze(t, livetest.Capture(t, livetest.Config(t, 5*time.Second), 0))
	if !reporttest.CheckFindings(t, r, []string{"container-log-flood", "dominant-io-process"}, nil) {
		t.Logf("report:\n%s", md)
	}
	c := r.Verdict.Culprit
	// The shim's writes are buffered: no sync-writes about it (another
	// process of this shared machine may sync, a test's browser say).
	for _, f := range r.Findings {
		if f.ID == "sync-writes" && c != nil && slices.Contains(f.Subjects.PIDs, c.PID) {
			t.Errorf("sync-writes about the shim: %s", f.Summary)
		}
	}
	if c == nil || c.Container != "nginx-logger-12" || c.Comm != "containerd-shim" {
		t.Errorf("culprit %+v, want the shim of nginx-logger-12", c)
	}
	for _, f := range r.Findings {
		if f.ID == "container-log-flood" && f.Subjects.Path != filepath.Join(logs, "nginx-logger-12.log") {
			t.Errorf("log file %q", f.Subjects.Path)
		}
	}
}
