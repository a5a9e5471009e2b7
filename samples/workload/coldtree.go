package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ColdTree makes an ext4 filesystem on dev with room for many inodes,
// fills it with a tree of dirs directories of perDir empty files each
// (tree/dNNN/fNNN), and mounts it again with a cold cache: unmounted
// (which drops the filesystem's buffers), the page cache of the loop
// device's backing file dropped (a loop device reads its file through
// the page cache, so a remount alone would be served from memory), and
// mounted again. Nothing else's cache is touched. It returns the mount
// point and the tree; the filesystem is unmounted when the test ends.
// Other files (a reader's data) can be written by prepare before the
// remount.
func ColdTree(t testing.TB, dev string, dirs, perDir int, prepare func(mnt string)) (mnt, tree string) {
	t.Helper()
	MustRun(t, "mkfs.ext4", "-q", "-F", "-N", fmt.Sprint(2*dirs*(perDir+1)+4096), "-E", "lazy_itable_init=0,lazy_journal_init=0", dev)
	mnt = filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	MustRun(t, "mount", dev, mnt)
	t.Cleanup(func() { unmount(mnt) })
	tree = filepath.Join(mnt, "tree")
	for d := 0; d < dirs; d++ {
		dir := filepath.Join(tree, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := 0; f < perDir; f++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if prepare != nil {
		prepare(mnt)
	}
	MustRun(t, "umount", mnt)
	DropBackingCache(t, dev)
	MustRun(t, "mount", dev, mnt)
	return mnt, tree
}

// DropBackingCache drops the page cache of the file behind loop device
// dev (posix_fadvise DONTNEED through dd's nocache), so that its next
// reads reach the disk below; a no-op for a device that is not a loop.
func DropBackingCache(t testing.TB, dev string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "loop/backing_file"))
	if err != nil {
		return
	}
	if out, err := exec.Command("dd", "if="+strings.TrimSpace(string(b)), "iflag=nocache", "count=0", "status=none").CombinedOutput(); err != nil {
		t.Fatalf("dropping the cache of %s: %v: %s", dev, err, out)
	}
}
