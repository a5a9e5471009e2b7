package model

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/strace"
)

// Durable is the file-by-file durability pattern in a trace: a file
// written and fsynced, often renamed over its final name, and then its
// directory fsynced, one file after another (package managers, object
// stores, configuration writers, git). Each file costs a data write, a
// journal commit and a cache flush for itself and another for its
// directory. It is recognised from the -y paths alone: rename's own
// path arguments are cut by strace -s, the descriptors' paths are not.
type Durable struct {
	// Files counts the files made durable: synced after their writes,
	// then renamed or their directory synced (or both). Renames counts
	// the renames among them; DirSyncs the directory syncs that
	// followed them.
	Files, Renames, DirSyncs int
	// Writes and WriteBytes are the writes to those files.
	Writes     int
	WriteBytes int64
	// FileSyncLat and DirSyncLat are the times of the files' syncs and
	// of the directories' syncs.
	FileSyncLat, DirSyncLat Latency
	// Dirs counts the files by the directory that was synced after them.
	Dirs map[string]int
	// Paths counts the times each file (its path as written, before any
	// rename) was made durable in the pattern.
	Paths map[string]int
	// Cut counts the syncs of files the trace's end cut short: synced
	// after their writes, their rename or directory sync not yet traced.
	Cut map[string]int
	// Lines cite one whole sequence: a write, the file's sync, the
	// rename (when there was one) and the directory's sync (when there
	// was one).
	Lines []int
	// dirLine tells whether Lines holds a directory sync yet.
	dirLine bool
}

// Has reports whether path's syncs were all part of the pattern: the
// file was synced only as one of the files made durable one by one.
func (d *Durable) Has(path string, syncs int) bool {
	return d != nil && d.Paths[path]+d.Cut[path] > 0 && syncs <= d.Paths[path]+d.Cut[path]
}

// SortedDirs lists the directories by files made durable in each, most
// first.
func (d *Durable) SortedDirs() []string {
	out := make([]string, 0, len(d.Dirs))
	for k := range d.Dirs {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if d.Dirs[out[i]] != d.Dirs[out[j]] {
			return d.Dirs[out[i]] > d.Dirs[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// durableTracker follows a process through the sequence. It follows the
// process, not each task: a runtime (Go's, a thread pool) may write a
// file on one thread and sync its directory on another, and the paths
// alone tie the steps together.
type durableTracker struct {
	d *Durable
	// pending are the files synced after a write and not yet followed
	// by a sync of their directory.
	pending []pendingFile
	// writes are the writes to each file since its last sync.
	writes map[string]pendingWrites
	// awaiting are the directories holding files made durable since
	// their last sync.
	awaiting map[string]bool
}

type pendingFile struct {
	path                        string
	writeLine, line, renameLine int
	writes                      int
	bytes                       int64
	lat                         Latency
}

type pendingWrites struct {
	n, line int
	bytes   int64
}

// maxPending bounds the files synced before a directory sync: a writer
// that syncs thousands of files and then their directory once is
// batching, not working file by file.
const maxPending = 64

func newDurableTracker() *durableTracker {
	return &durableTracker{d: &Durable{Dirs: map[string]int{}, Paths: map[string]int{}}, writes: map[string]pendingWrites{}, awaiting: map[string]bool{}}
}

// isRename reports a rename-family syscall.
func isRename(name string) bool {
	return name == "rename" || name == "renameat" || name == "renameat2"
}

// call follows one call of the trace; fd is its descriptor when it has
// one.
func (t *durableTracker) call(c *strace.Syscall, fd strace.FD, hasFD bool, end strace.Timestamp) {
	switch {
	case isRename(c.Name):
		// The rename of the latest file synced: rename's own paths are
		// cut by strace -s, so the order says which file it moved.
		if c.RetKnown && c.Ret == 0 && len(t.pending) > 0 {
			pf := t.pending[len(t.pending)-1]
			t.pending = t.pending[:len(t.pending)-1]
			pf.renameLine = c.Line
			t.done(pf)
		}
	case !hasFD || fd.Kind() != "file" || c.Errno != "":
	case IsWrite(c.Name):
		w := t.writes[fd.Path]
		if w.n == 0 {
			w.line = c.Line
		}
		w.n++
		w.bytes += max(c.Ret, 0)
		t.writes[fd.Path] = w
	case c.Name == "fsync" || c.Name == "fdatasync":
		w, written := t.writes[fd.Path]
		if !written {
			t.dirSync(c, fd.Path, end)
			return
		}
		delete(t.writes, fd.Path)
		// A file synced again before its rename or directory sync is a
		// log synced record by record: its earlier sync was no step of
		// the pattern.
		t.pending = slices.DeleteFunc(t.pending, func(pf pendingFile) bool { return pf.path == fd.Path })
		if len(t.pending) >= maxPending {
			return
		}
		pf := pendingFile{path: fd.Path, writeLine: w.line, line: c.Line, writes: w.n, bytes: w.bytes}
		pf.lat.add(c, end)
		t.pending = append(t.pending, pf)
	}
}

// dirSync completes the pending files that live in the directory just
// synced, and counts the sync when it follows files made durable there.
func (t *durableTracker) dirSync(c *strace.Syscall, dir string, end strace.Timestamp) {
	var rest []pendingFile
	for _, pf := range t.pending {
		if filepath.Dir(pf.path) == dir {
			t.done(pf)
		} else {
			rest = append(rest, pf)
		}
	}
	t.pending = rest
	if !t.awaiting[dir] {
		return
	}
	delete(t.awaiting, dir)
	d := t.d
	d.DirSyncs++
	d.DirSyncLat.add(c, end)
	if !d.dirLine && len(d.Lines) > 0 {
		d.Lines = append(d.Lines, c.Line)
		d.dirLine = true
	}
}

// done counts a file made durable.
func (t *durableTracker) done(pf pendingFile) {
	d := t.d
	dir := filepath.Dir(pf.path)
	t.awaiting[dir] = true
	d.Files++
	d.Dirs[dir]++
	d.Paths[pf.path]++
	d.Writes += pf.writes
	d.WriteBytes += pf.bytes
	d.FileSyncLat.Merge(pf.lat)
	if pf.renameLine > 0 {
		d.Renames++
	}
	if d.Lines == nil {
		for _, n := range []int{pf.writeLine, pf.line, pf.renameLine} {
			if n > 0 {
				d.Lines = append(d.Lines, n)
			}
		}
	}
}

// result is the pattern, nil when the trace holds none.
func (t *durableTracker) result() *Durable {
	if t.d.Files == 0 {
		return nil
	}
	t.d.Cut = map[string]int{}
	for _, pf := range t.pending {
		t.d.Cut[pf.path]++
	}
	return t.d
}

// CommonDir is the deepest directory holding every path ("" for none).
func CommonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	root := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for root != "/" && root != "." && !strings.HasPrefix(p, root+"/") {
			root = filepath.Dir(root)
		}
	}
	return root
}

// ListedTree is the tree the trace listed directories of (getdents64):
// the deepest directory holding them all, "" when it listed none.
func (s *TraceSummary) ListedTree() string {
	dirs := make([]string, 0, len(s.Listed))
	for d := range s.Listed {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	if len(dirs) == 1 {
		return dirs[0]
	}
	return CommonDir(dirs)
}
