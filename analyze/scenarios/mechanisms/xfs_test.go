package mechanisms

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// ext4Words are what a report about another filesystem must never say:
// ext4's journal thread, its mount options and its remedies.
var ext4Words = regexp.MustCompile(`(?i)jbd2|ext4|\bcommit=|\bdata=(ordered|writeback|journal)|\bbarrier\b`)

// kworkerNames are workqueue workers' names as /proc shows them, which may
// name the host's own ext4 ("kworker/u8:0-ext4-rsv-conversion"): quoted
// from the bundle, not said about this filesystem.
var kworkerNames = regexp.MustCompile(`kworker/\S+`)

// kernelLogLines are kernel log records quoted in a report ("[24111.26]
// (5 min before the capture) EXT4-fs error ..."): about another device of
// this shared machine when one failed, not said about this filesystem.
// The kernel-log alert (LogQL) matches every filesystem's error lines by
// design, when some device failed.
var kernelLogLines = regexp.MustCompile("(?m)^.*(`\\[\\s*\\d+\\.\\d+\\]|count_over_time).*$")

// Issue 24, item 4: the seed's O_SYNC logger on XFS over a slow disk
// (every write request waits 15 ms). Each O_SYNC append grows the file
// and forces the XFS log: its data write, a log write with a cache flush
// from the xfs-log workers. The logger is the culprit, holding the log
// writes its syncs forced as well as its own requests, and the report
// speaks of the XFS log (its log forces, waits in xlog_*, an external log
// device), never of jbd2 or ext4.
func TestXFSSyncLogger(t *testing.T) {
	slow := workload.SlowDisk(t, 512, "delay", "wdelay=15ms")
	mnt := workload.XFSOn(t, slow)
	logger := workload.StartProgram(t, "access-logger", "--file", filepath.Join(mnt, "access.log"), "--size", "58", "--sync", "osync")
	cfg := livetest.Config(t, 6*time.Second)
	cfg.SelectAfter = 2 * time.Second
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	ok := reporttest.CheckFindings(t, r, []string{"sync-writes", "device-saturated"}, nil)
	// The verdict names the logger, unless another device on this shared
	// machine failed recently (then that is the node's critical problem).
	if !otherDeviceFailing(r, filepath.Base(slow)) {
		if c := r.Verdict.Culprit; c == nil || c.PID != logger.Process.Pid {
			t.Errorf("culprit %+v, want the logger %d", c, logger.Process.Pid)
			ok = false
		}
		if r.Verdict.Primary != "sync-writes" {
			t.Errorf("primary finding %q, want sync-writes", r.Verdict.Primary)
			ok = false
		}
	}
	said := kernelLogLines.ReplaceAllString(kworkerNames.ReplaceAllString(md, "kworker"), "")
	if w := ext4Words.FindAllString(said, -1); len(w) > 0 {
		t.Errorf("the report on XFS names ext4's journal or options: %q", w)
		ok = false
	}
	// The mechanism in XFS's words: the log writes its syncs forced, the
	// wait for a log force, the remedy of an external log.
	for _, want := range []string{"log writes its syncs forced", "forces the XFS log", "logdev="} {
		if !strings.Contains(md, want) {
			t.Errorf("the report does not say %q", want)
			ok = false
		}
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
