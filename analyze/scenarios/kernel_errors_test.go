package scenarios

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 11: a disk that fails writes during the capture. An application
// makes synchronous writes to ext4 (errors=remount-ro) on a disk that
// starts answering EIO two seconds into the capture; a backup streams
// buffered writes to another disk that copes. The kernel logs the IO
// errors and lost writes, aborts the journal and remounts the filesystem
// read-only. The failing device is the cause and the verdict's first
// word, above the loud backup; the report says the filesystem is
// read-only at the end of the capture.
func TestFailingDiskDuringCapture(t *testing.T) {
	disk := workload.NewFailingDisk(t, 256)
	// commit=1: the journal commits, and so aborts, within a second of
	// the failure rather than five.
	mnt := workload.Ext4OnOpts(t, disk.Dev, "errors=remount-ro,commit=1")
	fast, _ := workload.LoopExt4(t, 512)
	workload.StartProgram(t, "backup", "--file", filepath.Join(fast, "backup.img"), "--size", "1048576", "--sync", "none", "--rate", "30", "--max-bytes", "256MiB")
	workload.StartProgram(t, "app", "--file", filepath.Join(mnt, "orders.log"), "--size", "4096", "--sync", "odsync", "--rate", "20", "--keep-going")
	cfg := livetest.Config(t, 8*time.Second)
	go func() {
		time.Sleep(2 * time.Second)
		disk.Fail(t)
	}()
	r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
	name := filepath.Base(disk.Dev)
	ok := true
	var failing bool
	for _, f := range r.Findings {
		if f.ID == "kernel-io-errors" && f.Subjects.Device == name {
			failing = f.Severity == "critical"
		}
	}
	if !failing {
		t.Errorf("no critical kernel-io-errors finding about %s", name)
		ok = false
	}
	if c := r.Verdict.Culprit; r.Verdict.Primary != "kernel-io-errors" || c == nil || c.Kind != "device" || c.Device != name {
		t.Errorf("verdict primary %s, culprit %+v; want the failing device %s", r.Verdict.Primary, c, name)
		ok = false
	}
	if !strings.Contains(r.Verdict.Summary, "read-only") || !strings.Contains(r.Verdict.Summary, mnt) {
		t.Errorf("the verdict does not say that %s went read-only: %s", mnt, r.Verdict.Summary)
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}

// Issue 11: a quiet node whose kernel log still holds IO errors of a disk
// since removed, whose name a new, healthy disk now has. The errors are
// seconds old, but the log shows the name attached again after them: no
// critical finding, an info line that says they were about the device
// the name had before.
func TestOldErrorsOnReusedName(t *testing.T) {
	disk := workload.NewFailingDisk(t, 64)
	mnt := workload.Ext4OnOpts(t, disk.Dev, "errors=remount-ro")
	name := filepath.Base(disk.Dev)
	disk.Fail(t)
	// Write and sync until the kernel has logged the failure.
	deadline := time.Now().Add(20 * time.Second)
	for !logged(t, "error on dev "+name, "error, dev "+name) {
		exec.Command("sh", "-c", "echo data >> "+filepath.Join(mnt, "f")+"; sync -f "+mnt).Run()
		if time.Now().After(deadline) {
			t.Fatalf("the kernel logged no IO error on %s in 20 s", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	disk.Heal()
	workload.Detach(t, mnt, disk.Dev)
	workload.LoopDeviceAt(t, disk.Dev, 64)
	cfg := livetest.Config(t, 4*time.Second)
	r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
	ok := true
	seen := false
	for _, f := range r.Findings {
		if f.ID != "kernel-io-errors" || f.Subjects.Device != name {
			continue
		}
		seen = true
		if f.Severity != "info" {
			t.Errorf("the old errors about %s are %s, want info", name, f.Severity)
			ok = false
		}
	}
	if !seen {
		t.Errorf("no kernel-io-errors finding about %s's old errors", name)
		ok = false
	}
	if c := r.Verdict.Culprit; c != nil && c.Device == name {
		t.Errorf("the verdict blames the new %s: %+v", name, c)
		ok = false
	}
	if !strings.Contains(md, "attached to a device again") {
		t.Error("the report does not say the name was attached to another device since")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}

// logged reports whether the kernel log holds a line with any of subs.
func logged(t *testing.T, subs ...string) bool {
	out, err := exec.Command("dmesg").Output()
	if err != nil {
		t.Fatalf("dmesg: %v", err)
	}
	for _, s := range subs {
		if strings.Contains(string(out), s) {
			return true
		}
	}
	return false
}
