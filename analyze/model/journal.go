package model

import (
	"slices"
	"strings"

	"github.com/iorca/iorca/internal/procfs"
)

// Journal is how a filesystem makes a synchronous write durable, in its
// own words: what an fsync or an O_SYNC write waits for, the kernel
// threads that write it, the functions a waiting task's stack shows, and
// the remedy that makes each sync cheaper there. A report names only the
// words of the filesystem the bundle shows (mountinfo's type); on one it
// does not know it names nothing filesystem-specific.
type Journal struct {
	// FSType is mountinfo's type ("" for the generic entry).
	FSType string
	// Name is the journal itself: "the ext4 journal (jbd2)".
	Name string
	// Commit is what a sync waits for ("journal commit", "log force");
	// Commits are the device's requests that carry them ("journal
	// commits", "log writes").
	Commit, Commits string
	// Threads names the kernel threads that write it on others' behalf.
	Threads string
	// WaitSymbols are the kernel functions a task's stack or wchan shows
	// while a sync waits for a commit.
	WaitSymbols []string
	// SyncWaits says what a synchronous write waiting there does.
	SyncWaits string
	// Device is the filesystem's own way to make each commit cheap when
	// every record must be durable; empty when it has none to name.
	Device Remedy
	// SyncFS is what sync(2) and syncfs(2) end with once the dirty
	// pages are written, as a verb phrase ("commits the journal") and
	// as a noun ("a journal commit"): the filesystem's ->sync_fs.
	SyncFS, SyncFSNoun string
	// Background is how the filesystem makes metadata durable when
	// nobody asks: its periodic commit and the knob that sets it.
	Background string
	// MetaReadahead names the filesystem's own readahead of inode and
	// directory blocks (a mount option or tunable); "" when it has none
	// to name.
	MetaReadahead string
}

// Remedy is a mitigation in a filesystem's own terms: what to do, how,
// and its effect.
type Remedy struct{ Action, How, Effect string }

// journals are the filesystems whose journals iorca names. Sources:
// Documentation/filesystems/ext4/journal.rst, xfs/xfs-delayed-logging-
// design.rst and xfs(5), btrfs(5) (btrfs-man5 "COMMIT" and "nodatacow").
var journals = []Journal{
	jbd2Journal("ext4"), jbd2Journal("ext3"),
	{FSType: "xfs", Name: "the XFS log", Commit: "log force", Commits: "log writes",
		Threads:     "the xfs-log and xfs-cil workers and xfsaild/DEV",
		WaitSymbols: []string{"xlog_wait_on_iclog", "xfs_log_force_seq", "xlog_force_lsn", "xfs_log_force", "xlog_cil_force_seq", "xlog_wait"},
		SyncFS:      "forces the XFS log", SyncFSNoun: "a log force",
		Background: "the XFS log written as its in-memory log (the CIL) fills or by the periodic log work (fs.xfs.xfssyncd_centisecs, 30 s by default)",
		SyncWaits:  "each synchronous write that grows the file forces the XFS log and waits for the log write (a log force: its metadata in a log buffer written with a cache flush and FUA)",
		Device: Remedy{Action: "If every record must be durable, give the XFS log its own fast device",
			How:    "An external log on a low-latency device with power-loss protection (mkfs.xfs's -l logdev=DEVICE,size=64m option and the logdev=DEVICE mount option: the log's place is chosen at mkfs time), and logbsize=256k so that concurrent syncs share larger log writes; delaylog is already the default: the CIL gathers the changes between forces, so what costs is the number of forces",
			Effect: "Each log force's write goes to the fast device; the data disk still takes each record's data write and the cache flush XFS issues on it before the log write (cheap only with power-loss protection)"}},
	{FSType: "btrfs", Name: "btrfs's log tree and transaction commits", Commit: "log-tree sync", Commits: "log-tree writes",
		Threads:     "btrfs-transaction and the btrfs workers",
		WaitSymbols: []string{"btrfs_sync_log", "btrfs_sync_file", "wait_log_commit", "wait_for_writer", "btrfs_commit_transaction", "wait_current_trans"},
		SyncFS:      "commits the btrfs transaction", SyncFSNoun: "a transaction commit",
		Background: "one transaction commit per commit interval (the commit= mount option, 30 s by default)",
		SyncWaits:  "each synchronous write copies its changed extents into btrfs's log tree and waits for the log tree and the superblock to be written (copy-on-write: new blocks, checksums and metadata each time)",
		Device: Remedy{Action: "If every record must be durable, stop btrfs copying the log on write",
			How:    "chattr +C on the log's directory before its files are created (nodatacow: data rewritten in place, no data checksums, no compression), or keep such logs on a filesystem without copy-on-write",
			Effect: "Each sync writes the record and a small log-tree update instead of new extents and their checksums"}},
}

// jbd2Journal is the journal of ext4 and ext3, both kept by jbd2.
func jbd2Journal(fstype string) Journal {
	return Journal{FSType: fstype, Name: "the " + fstype + " journal (jbd2)", Commit: "journal commit", Commits: "journal commits",
		Threads: "jbd2/DEV-8", WaitSymbols: []string{"jbd2_log_wait_commit"},
		SyncWaits: "each synchronous write waits for an " + fstype + " journal commit",
		SyncFS:    "commits the journal", SyncFSNoun: "a journal commit",
		Background:    "one journal commit per commit interval (the commit= mount option, 5 s by default)",
		MetaReadahead: fstype + "'s inode_readahead_blks"}
}

// genericJournal names no filesystem: for a type iorca does not know.
var genericJournal = Journal{Name: "the filesystem's journal", Commit: "journal commit", Commits: "journal commits",
	Threads: "the filesystem's kernel threads", SyncWaits: "each synchronous write waits for the filesystem to commit its metadata",
	SyncFS: "commits the filesystem's metadata", SyncFSNoun: "a metadata commit", Background: "the filesystem's own periodic commits"}

// JournalOf is the journal vocabulary of a filesystem type; the generic
// one for a type iorca does not know, or "".
func JournalOf(fstype string) Journal {
	for _, j := range journals {
		if j.FSType == fstype {
			return j
		}
	}
	return genericJournal
}

// WaitsOnCommit reports a kernel stack or wchan that shows a sync
// waiting for one of the journal's commits.
func (j Journal) WaitsOnCommit(stack string) bool {
	return slices.ContainsFunc(j.WaitSymbols, func(s string) bool { return strings.Contains(stack, s) })
}

// FSTypeOn is the type of the filesystems mounted on a device (by the
// disk they are on: a partition's filesystem is its disk's), "" when none
// is or when they are of several types.
func (m *Model) FSTypeOn(device string) string {
	fstype := ""
	for _, mt := range m.Mounts {
		if m.mountDisk(mt) != device {
			continue
		}
		switch {
		case fstype == "":
			fstype = mt.FSType
		case fstype != mt.FSType:
			return ""
		}
	}
	return fstype
}

// mountDisk is the disk a mount's filesystem is on: by its device number,
// or by its source for a filesystem with an anonymous one (btrfs shows
// 0:N in mountinfo); "" for one on no block device.
func (m *Model) mountDisk(mt procfs.Mount) string {
	if mt.Major != 0 {
		return m.DiskName(procfs.Dev{Major: mt.Major, Minor: mt.Minor})
	}
	if name, ok := strings.CutPrefix(mt.Source, "/dev/"); ok && !strings.Contains(name, "/") {
		return m.diskOf(name)
	}
	return ""
}
