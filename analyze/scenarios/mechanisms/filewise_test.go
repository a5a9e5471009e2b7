package mechanisms

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 24, item 2: file-by-file durability. An unpacker writes 4 KiB
// files into a tree of directories of 16 files each on a slow disk (5 ms
// per write request), each one written, fsynced, renamed over its final
// name and its directory fsynced. The report names it as the culprit
// with one finding for the pattern (not one sync-writes finding per
// file) listing the tree.
func TestFileByFileSync(t *testing.T) {
	slow := workload.SlowDisk(t, 256, "delay", "wdelay=5ms")
	mnt := workload.Ext4On(t, slow)
	unpacker := workload.StartProgram(t, "unpacker", "--file", filepath.Join(mnt, "root"), "--files", "400", "--size", "4096")
	cfg := livetest.Config(t, 8*time.Second)
	cfg.SelectAfter = 3 * time.Second
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	pid := unpacker.Process.Pid
	ok := true
	if c := r.Verdict.Culprit; c == nil || c.PID != pid {
		t.Errorf("culprit %+v, want the unpacker %d", c, pid)
		ok = false
	}
	if r.Verdict.Primary != "file-by-file-sync" {
		t.Errorf("primary finding %q, want file-by-file-sync", r.Verdict.Primary)
		ok = false
	}
	pattern, perFile := 0, 0
	for _, f := range r.Findings {
		mine := len(f.Subjects.PIDs) > 0 && f.Subjects.PIDs[0] == pid
		switch {
		case mine && f.ID == "file-by-file-sync":
			pattern++
		case mine && f.ID == "sync-writes":
			perFile++
		}
	}
	if pattern != 1 || perFile != 0 {
		t.Errorf("%d file-by-file-sync and %d sync-writes findings about the unpacker, want exactly 1 and 0", pattern, perFile)
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
