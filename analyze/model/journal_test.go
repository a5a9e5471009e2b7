package model

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// Each filesystem is named in its own words only: the ext4 words never
// appear in another filesystem's entry, and the generic entry names no
// filesystem at all.
func TestJournalVocabulary(t *testing.T) {
	ext4Words := []string{"jbd2", "ext4", "commit=", "data=", "barrier"}
	for _, fstype := range []string{"xfs", "btrfs", "", "zfs", "f2fs"} {
		j := JournalOf(fstype)
		text := strings.Join([]string{j.Name, j.Commit, j.Commits, j.Threads, j.SyncWaits, j.Device.Action, j.Device.How, j.Device.Effect, strings.Join(j.WaitSymbols, " ")}, " ")
		for _, w := range ext4Words {
			if strings.Contains(text, w) {
				t.Errorf("%q's journal names %q: %s", fstype, w, text)
			}
		}
		if fstype != "xfs" && fstype != "btrfs" {
			for _, w := range []string{"XFS", "xfs", "btrfs", "xlog"} {
				if strings.Contains(text, w) {
					t.Errorf("the generic journal (%q) names %q", fstype, w)
				}
			}
		}
	}
	if j := JournalOf("xfs"); !j.WaitsOnCommit("[<0>] xlog_wait_on_iclog+0x17c/0x1c0\n[<0>] xfs_file_fsync+0x1d2/0x200") || j.WaitsOnCommit("jbd2_log_wait_commit") {
		t.Error("XFS: a log force's wait is not told from jbd2's")
	}
	if j := JournalOf("ext4"); !j.WaitsOnCommit("jbd2_log_wait_commit") || j.Commits != "journal commits" {
		t.Errorf("ext4: %+v", j)
	}
}

// The filesystem type of a device: by the mounts on it and its
// partitions, by source for btrfs's anonymous device numbers, none when
// two types share it.
func TestFSTypeOn(t *testing.T) {
	m := &Model{Blocks: map[string]*Block{"sda": {Name: "sda", Dev: procfs.Dev{Major: 8, Minor: 0}}, "loop1": {Name: "loop1", Dev: procfs.Dev{Major: 7, Minor: 1}}, "vdb": {Name: "vdb", Dev: procfs.Dev{Major: 253, Minor: 16}}}}
	m.Ticks = []*Tick{{Disks: map[string]procfs.DiskStat{"sda1": {Name: "sda1", Major: 8, Minor: 1}, "sda2": {Name: "sda2", Major: 8, Minor: 2}}}}
	m.Mounts = []procfs.Mount{
		{Major: 8, Minor: 1, FSType: "xfs", Source: "/dev/sda1"},
		{Major: 8, Minor: 2, FSType: "xfs", Source: "/dev/sda2"},
		{Major: 0, Minor: 45, FSType: "btrfs", Source: "/dev/loop1"},
		{Major: 0, Minor: 22, FSType: "tmpfs", Source: "tmpfs"},
		{Major: 253, Minor: 16, FSType: "ext4", Source: "/dev/vdb"},
		{Major: 253, Minor: 16, FSType: "xfs", Source: "/dev/vdb"},
	}
	for dev, want := range map[string]string{"sda": "xfs", "loop1": "btrfs", "vdb": "", "nvme0n1": ""} {
		if got := m.FSTypeOn(dev); got != want {
			t.Errorf("FSTypeOn(%s) = %q, want %q", dev, got, want)
		}
	}
}
