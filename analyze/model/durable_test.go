package model

import (
	"os"
	"testing"

	"github.com/iorca/iorca/analyze/strace"
)

// A real trace of iorca-workload --files 6 --per-dir 4 --for 30ms (strace 6.1, -y -s
// 0, the collector's syscall set): five files written, fsynced, renamed and
// their directory fsynced, in two directories (four in the first).
func TestDurableFromTrace(t *testing.T) {
	b, err := os.ReadFile("testdata/filewise.strace")
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(strace.Parse(b), 0.03)
	d := s.Durable
	if d == nil {
		t.Fatal("no file-by-file pattern found")
	}
	if d.Files != 5 || d.Renames != 5 || d.DirSyncs != 5 || d.Writes != 5 {
		t.Errorf("files %d, renames %d, dir syncs %d, writes %d; want 5 each", d.Files, d.Renames, d.DirSyncs, d.Writes)
	}
	if got := d.SortedDirs(); len(got) != 2 || got[0] != "/tmp/fbf/root/000" || d.Dirs[got[0]] != 4 || d.Dirs[got[1]] != 1 {
		t.Errorf("dirs %v (%v)", got, d.Dirs)
	}
	if len(d.Lines) != 4 || d.FileSyncLat.Calls != 5 || d.DirSyncLat.Calls != 5 {
		t.Errorf("lines %v, file syncs %+v, dir syncs %+v", d.Lines, d.FileSyncLat, d.DirSyncLat)
	}
}

// A writer that syncs a file after its writes and never its directory is
// a sync writer, not the file-by-file pattern; nor is a directory synced
// alone.
func TestDurableNeedsBoth(t *testing.T) {
	tr := strace.Parse([]byte(`1 10:00:00.000000 write(3</d/wal>, ""..., 10) = 10 <0.000010>
1 10:00:00.000100 fsync(3</d/wal>) = 0 <0.001000>
1 10:00:00.002000 fsync(4</other>) = 0 <0.001000>
1 10:00:00.004000 fsync(5</d>) = 0 <0.001000>
`))
	s := Summarize(tr, 1)
	if s.Durable == nil || s.Durable.Files != 1 {
		t.Fatalf("want one file made durable in /d, got %+v", s.Durable)
	}
	tr = strace.Parse([]byte(`1 10:00:00.000000 write(3</d/wal>, ""..., 10) = 10 <0.000010>
1 10:00:00.000100 fsync(3</d/wal>) = 0 <0.001000>
1 10:00:00.002000 write(3</d/wal>, ""..., 10) = 10 <0.000010>
1 10:00:00.002100 fsync(3</d/wal>) = 0 <0.001000>
`))
	if s := Summarize(tr, 1); s.Durable != nil {
		t.Errorf("a WAL writer taken for the pattern: %+v", s.Durable)
	}
}

// Synced and renamed without a directory sync (the durability most
// writers settle for) is the pattern too; a WAL renamed once is not
// taken out of its sync-writes; a file whose sequence the trace's end
// cut is the pattern's.
func TestDurableByRename(t *testing.T) {
	tr := strace.Parse([]byte(`1 10:00:00.000000 write(3</d/a.tmp>, ""..., 10) = 10 <0.000010>
1 10:00:00.000100 fsync(3</d/a.tmp>) = 0 <0.001000>
1 10:00:00.002000 rename("/d/a.tmp", "/d/a") = 0 <0.000010>
1 10:00:00.003000 write(3</d/b.tmp>, ""..., 10) = 10 <0.000010>
1 10:00:00.003100 fsync(3</d/b.tmp>) = 0 <0.001000>
1 10:00:00.004000 rename("/d/b.tmp", "/d/b") = 0 <0.000010>
1 10:00:00.005000 write(4</d/wal>, ""..., 10) = 10 <0.000010>
1 10:00:00.005100 fdatasync(4</d/wal>) = 0 <0.001000>
1 10:00:00.006000 write(4</d/wal>, ""..., 10) = 10 <0.000010>
1 10:00:00.006100 fdatasync(4</d/wal>) = 0 <0.001000>
1 10:00:00.007000 renameat2(AT_FDCWD</>, "/d/wal", AT_FDCWD</>, "/d/wal.1", 0) = 0 <0.000010>
1 10:00:00.008000 write(3</d/c.tmp>, ""..., 10) = 10 <0.000010>
1 10:00:00.008100 fsync(3</d/c.tmp> <detached ...>
`))
	s := Summarize(tr, 1)
	d := s.Durable
	if d == nil || d.Files != 3 || d.Renames != 3 || d.DirSyncs != 0 || len(d.Lines) != 3 {
		t.Fatalf("want a, b and the WAL's last sync made durable by rename, got %+v", d)
	}
	if !d.Has("/d/a.tmp", 1) || d.Has("/d/wal", 2) || !d.Has("/d/c.tmp", 1) {
		t.Errorf("a.tmp's one sync is the pattern's, the WAL's two are not both")
	}
}

// A descriptor number reused for the directory (the file's closed on
// another thread) does not make the directory's sync one after a write.
func TestSyncAfterWriteNeedsTheSameFile(t *testing.T) {
	tr := strace.Parse([]byte(`1 10:00:00.000000 write(6</d/a.new>, ""..., 10) = 10 <0.000010>
2 10:00:00.000100 fsync(6</d/a.new>) = 0 <0.001000>
1 10:00:00.002000 fsync(6</d>) = 0 <0.001000>
`))
	for _, f := range Summarize(tr, 1).Files {
		if f.Path == "/d" && f.SyncAfterWrite != 0 {
			t.Errorf("the directory's sync counted after the file's write: %+v", f)
		}
	}
}
