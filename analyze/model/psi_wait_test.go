package model

import "testing"

// Stacks as /proc/PID/stack shows them (scheduler frames left out), from
// the overlay-slow-disk bundle and written by hand for XFS and the page
// cache: the innermost known function says how PSI counts the sleep.
func TestPSIWaitOf(t *testing.T) {
	for _, tc := range []struct {
		name, wchan, stack string
		want               PSIWait
		fn                 string
	}{
		{"ext4 fsync waiting for the commit", "jbd2_log_wait_commit",
			"[<0>] jbd2_log_wait_commit+0xc2/0x150\n[<0>] ext4_sync_file+0x1f2/0x2d0\n[<0>] do_fsync+0x3b/0xa0\n", PSIUncounted, "jbd2_log_wait_commit"},
		{"ext4 write waiting for a shadowed buffer (BH_Shadow)", "do_get_write_access",
			"[<0>] do_get_write_access+0x277/0x3d0\n[<0>] jbd2_journal_get_write_access+0x95/0xd0\n[<0>] __ext4_journal_get_write_access+0x3e/0x160\n", PSICounted, "do_get_write_access"},
		{"XFS fsync forcing the log", "", "[<0>] xlog_wait_on_iclog+0x10f/0x130\n[<0>] xfs_log_force_seq+0x9e/0x1a0\n[<0>] xfs_file_fsync+0x1b9/0x220\n", PSIUncounted, "xlog_wait_on_iclog"},
		{"fsync waiting on writeback under a commit caller", "", "[<0>] folio_wait_writeback+0x2b/0x80\n[<0>] __filemap_fdatawait_range+0x8d/0xf0\n[<0>] file_write_and_wait_range+0x93/0xb0\n[<0>] ext4_sync_file+0x9e/0x2d0\n", PSICounted, "folio_wait_writeback"},
		{"wchan only", "balance_dirty_pages", "", PSICounted, "balance_dirty_pages"},
		{"unknown", "pipe_read", "[<0>] pipe_read+0x318/0x460\n", PSIUnknown, ""},
	} {
		if w, fn, _ := PSIWaitOf(tc.wchan, tc.stack); w != tc.want || fn != tc.fn {
			t.Errorf("%s: %v %q, want %v %q", tc.name, w, fn, tc.want, tc.fn)
		}
	}
}
