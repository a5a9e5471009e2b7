package workload

import (
	"os"
	"path/filepath"
	"testing"
)

// XFSOn makes an XFS filesystem on dev (its log inside it, as mkfs.xfs
// makes it by default) and mounts it; it is unmounted when the test ends.
// The test skips when mkfs.xfs is missing (.ci/run installs xfsprogs).
// xfsprogs refuses filesystems under 300 MiB.
func XFSOn(t testing.TB, dev string) string {
	t.Helper()
	mkfs := RequireTool(t, "mkfs.xfs")
	MustRun(t, mkfs, "-q", "-f", dev)
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	MustRun(t, "mount", dev, mnt)
	t.Cleanup(func() { unmount(mnt) })
	return mnt
}
