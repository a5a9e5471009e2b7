package mechanisms

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 24, item 5: a large cold log rotated by copy and truncate on a
// slow disk (every read waits 20 ms: the copy reads the log at about
// 20 MB/s; writes are left fast so that the log is laid down in a second,
// then the page cache of the file behind the loop device is dropped, so
// that the copy's reads reach the slow disk, whatever this machine's
// speed) while its service goes on appending. The real logrotate does the rotation, copied under another
// name so that only what it does can give it away: it reads the live
// log and writes log.1 while the service holds the log open with
// O_APPEND. The rotation's copy is the culprit by device time and the
// report says it is a rotation, with rename-and-reopen as the remedy.
func TestCopytruncateRotation(t *testing.T) {
	slow, dir := slowLogDir(t)
	log := filepath.Join(dir, "service.log")
	// A log written long ago: on the disk, not in the page cache.
	workload.MustRun(t, "dd", "if=/dev/zero", "of="+log, "bs=1M", "count=512", "oflag=direct", "status=none")
	workload.DropBackingCache(t, slow)
	workload.StartProgram(t, "app-server", "--file", log, "--size", "200", "--sync", "none", "--rate", "200")
	conf := writeFile(t, "rotate.conf", log+" {\n    copytruncate\n    compress\n    rotate 2\n}\n", 0o644)
	rotator := renamedTool(t, "logrotate", "nightly-job")
	job := workload.Start(t, rotator, "-f", "-s", filepath.Join(t.TempDir(), "state"), conf)
	cfg := livetest.Config(t, 5*time.Second)
	cfg.SelectAfter = 2 * time.Second
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	ok := reporttest.CheckFindings(t, r, []string{"log-rotation"}, nil)
	// The copy holds the slow disk's time: its reads of the log and the
	// writeback of its copy.
	dev := filepath.Base(slow)
	dt := window.New(livetest.Load(t, path), window.Defaults()).DeviceTimes[dev]
	if s := dt.Find(job.Process.Pid); dt == nil || s == nil || dt.Fraction(s) < 0.5 {
		t.Errorf("the rotation job holds too little of %s: %+v", dev, s)
		ok = false
	}
	// The verdict names it and its mechanism, unless another device on
	// this shared machine failed recently (a loop device another test
	// left failing is the node's critical problem, rightly).
	if !reporttest.HasFinding(r, "device-saturated") {
		t.Errorf("%s did not saturate: every read waits 20 ms and the copy keeps one in flight", dev)
		ok = false
	}
	wants := []string{log + ".1", "rotate it", "rename and reopen"}
	if !otherDeviceFailing(r, dev) {
		if c := r.Verdict.Culprit; c == nil || c.PID != job.Process.Pid {
			t.Errorf("culprit %+v, want the rotation job %d", c, job.Process.Pid)
			ok = false
		}
		if r.Verdict.Primary != "log-rotation" || !strings.Contains(r.Verdict.Summary, "a log rotation by copy and truncate") {
			t.Errorf("primary finding %q, verdict %q: want log-rotation, by copy and truncate", r.Verdict.Primary, r.Verdict.Summary)
			ok = false
		}
	}
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("the report does not say %q", want)
			ok = false
		}
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}

// otherDeviceFailing reports a critical kernel-io-errors finding about a
// device other than dev.
func otherDeviceFailing(r reporttest.Report, dev string) bool {
	for _, f := range r.Findings {
		if f.ID == "kernel-io-errors" && f.Severity == "critical" && f.Subjects.Device != dev {
			return true
		}
	}
	return false
}

// slowLogDir is a log directory on ext4 over a slow disk whose every read
// waits 20 ms (writes are fast, so that a large log is laid down in
// seconds), and the disk.
func slowLogDir(t *testing.T) (slow, dir string) {
	slow = workload.SlowDisk(t, 1024, "delay", "rdelay=20ms")
	dir = filepath.Join(workload.Ext4On(t, slow), "app")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return slow, dir
}

// renamedTool is a copy of a system tool under a name that says nothing
// of what it does: only its behaviour can give it away.
func renamedTool(t *testing.T, tool, name string) string {
	bin, err := os.ReadFile(workload.RequireTool(t, tool))
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, string(bin), 0o755)
}

// writeFile writes a file of the test's own and returns its path.
func writeFile(t *testing.T, name, text string, mode os.FileMode) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return path
}
