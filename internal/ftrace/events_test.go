package ftrace

import "testing"

// A line of this kernel's writeback_single_inode, from the dirty-throttled
// sample's block trace (samples/dirty-throttled.tar.zst, trace/block.txt).
func TestParseSingleInode(t *testing.T) {
	w, err := ParseSingleInode([]byte("bdi 7:0: ino=12 state=I_DIRTY_PAGES|I_SYNC|I_SYNC_QUEUED dirtied_when=4297566521 age=3 index=4096 to_write=1024 wrote=1024 cgroup_ino=1"))
	if err != nil || w.BDI != (Dev{Major: 7}) || w.Ino != 12 || w.Wrote != 1024 {
		t.Errorf("got %+v, %v", w, err)
	}
	for _, bad := range []string{"", "bdi 7:0: ino=12", "bdi x: ino=1 wrote=2", "ino=1 wrote=2"} {
		if _, err := ParseSingleInode([]byte(bad)); err == nil {
			t.Errorf("ParseSingleInode(%q) accepted it", bad)
		}
	}
}
