package workload

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FailingDisk is a real block device whose writes fail on demand: an
// nbdkit memory disk behind the error filter (REFERENCE-IO.md 13), every
// write answered EIO while the trigger file exists.
type FailingDisk struct {
	Dev     string // /dev/loopN
	trigger string
}

// NewFailingDisk makes a FailingDisk of sizeMiB; it is torn down when
// the test ends, even if it fails.
func NewFailingDisk(t testing.TB, sizeMiB int) *FailingDisk {
	t.Helper()
	trigger := filepath.Join(t.TempDir(), "fail-now")
	dev := SlowDisk(t, sizeMiB, "error", "error-pwrite=EIO", "error-pwrite-rate=100%", "error-pwrite-file="+trigger)
	return &FailingDisk{Dev: dev, trigger: trigger}
}

// Fail makes every write to the disk fail from now on.
func (d *FailingDisk) Fail(t testing.TB) {
	if err := os.WriteFile(d.trigger, nil, 0o644); err != nil {
		t.Error(err)
	}
}

// Heal makes writes succeed again.
func (d *FailingDisk) Heal() { os.Remove(d.trigger) }

// Ext4OnOpts makes an ext4 filesystem on dev and mounts it with the
// mount options opts ("errors=remount-ro"); it is unmounted when the
// test ends.
func Ext4OnOpts(t testing.TB, dev, opts string) string {
	t.Helper()
	MustRun(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev)
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	MustRun(t, "mount", "-o", opts, dev, mnt)
	t.Cleanup(func() { unmount(mnt) })
	return mnt
}

// Detach unmounts mnt and detaches the loop device dev at once (rather
// than when the test ends), so that the name is free for the next
// device: the kernel reuses loop device names.
func Detach(t testing.TB, mnt, dev string) {
	t.Helper()
	unmount(mnt)
	if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
		t.Fatalf("losetup -d %s: %v\n%s", dev, err, out)
	}
}

// LoopDeviceAt attaches a new sparse image of sizeMiB to the loop device
// dev itself (/dev/loopN, which must be free): a new disk under a name an
// earlier disk had. It is detached when the test ends.
func LoopDeviceAt(t testing.TB, dev string, sizeMiB int) {
	t.Helper()
	MustRun(t, "losetup", dev, sparseImage(t, sizeMiB))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
}

// LoopOnFile attaches a loop device to the file at path — a file on
// another of the test's filesystems, to stack one device on another —
// and detaches it when the test ends.
func LoopOnFile(t testing.TB, path string) string {
	t.Helper()
	dev := MustRun(t, "losetup", "--find", "--show", path)
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}
