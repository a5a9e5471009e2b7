package model

import (
	"sort"

	"github.com/iorca/iorca/analyze/strace"
)

// Syscall families as iorca groups them.
var (
	writeCalls = map[string]bool{"write": true, "pwrite64": true, "writev": true, "pwritev": true, "pwritev2": true}
	readCalls  = map[string]bool{"read": true, "pread64": true, "readv": true, "preadv": true, "preadv2": true}
	syncCalls  = map[string]bool{"fsync": true, "fdatasync": true, "sync_file_range": true, "syncfs": true, "msync": true}
)

// IsWrite, IsRead and IsSync classify a syscall name.
func IsWrite(name string) bool { return writeCalls[name] }

// IsRead reports a read-family syscall.
func IsRead(name string) bool { return readCalls[name] }

// IsSync reports a sync-family syscall.
func IsSync(name string) bool { return syncCalls[name] }

// SizeBuckets are the upper bounds (exclusive) of the write size
// histogram; the last bucket is everything above.
var SizeBuckets = []int64{64, 512, 4096, 65536}

// SizeBucketNames label the histogram buckets.
var SizeBucketNames = []string{"<64 B", "64-511 B", "512 B-4 KiB", "4-64 KiB", ">=64 KiB"}

func sizeBucket(n int64) int {
	for i, b := range SizeBuckets {
		if n < b {
			return i
		}
	}
	return len(SizeBuckets)
}

// FileIO is what a traced process did to one file (or pipe, socket).
type FileIO struct {
	Path string
	// Kind is "file", "pipe", "socket", "tty", "device", "anon".
	Kind                  string
	Writes, Reads         int
	WriteBytes, ReadBytes int64
	Syncs                 int // fsync, fdatasync, sync_file_range on it
	WriteUS, SyncUS       int64
	// WriteHist counts writes by size (SizeBuckets).
	WriteHist []int
	// SyncAfterWrite counts syncs that directly follow a write to the
	// same descriptor by the same task: the write+fsync pattern.
	SyncAfterWrite int
	// FirstWriteLine and FirstSyncLine cite the trace.
	FirstWriteLine, FirstSyncLine int
	// ExampleLines holds, per size bucket, the first few write lines, so
	// that a citation shows writes of the typical size.
	ExampleLines [][]int
	// Failed counts the writes and syncs that failed, by errno (EIO,
	// EROFS, ENOSPC...); FirstFailLine cites the first.
	Failed        map[string]int
	FirstFailLine int
}

// maxExamples is how many lines are kept per size bucket.
const maxExamples = 3

// TypicalWriteLines returns example write lines from the bucket with the
// most writes.
func (f *FileIO) TypicalWriteLines() []int {
	best := -1
	for i, n := range f.WriteHist {
		if best < 0 || n > f.WriteHist[best] {
			best = i
		}
	}
	if best < 0 || best >= len(f.ExampleLines) {
		return nil
	}
	return f.ExampleLines[best]
}

// AvgWrite is the mean bytes per write.
func (f *FileIO) AvgWrite() float64 {
	if f.Writes == 0 {
		return 0
	}
	return float64(f.WriteBytes) / float64(f.Writes)
}

// SyscallStat sums one syscall name over a trace.
type SyscallStat struct {
	Name     string
	Calls    int
	Errors   int
	Bytes    int64
	TotalUS  int64
	MaxUS    int64
	Complete int // calls with a known return and duration
}

// TraceSummary is a target's trace reduced to what the rules and the
// strace view need.
type TraceSummary struct {
	Seconds  float64
	Lines    int
	Syscalls []SyscallStat
	// Files are sorted by bytes written, then writes.
	Files     []*FileIO
	Malformed int
	Orphans   int
}

// Summarize reduces a parsed trace.
func Summarize(t *strace.Trace, seconds float64) *TraceSummary {
	s := &TraceSummary{Seconds: seconds, Lines: t.Lines, Malformed: len(t.Malformed), Orphans: t.Orphans}
	stats := map[string]*SyscallStat{}
	files := map[string]*FileIO{}
	// last records, per task and fd, whether the last call was a write.
	type taskFD struct{ pid, fd int }
	lastWrite := map[taskFD]bool{}
	for i := range t.Calls {
		c := &t.Calls[i]
		st := stats[c.Name]
		if st == nil {
			st = &SyscallStat{Name: c.Name}
			stats[c.Name] = st
		}
		st.Calls++
		if c.Errno != "" {
			st.Errors++
		}
		if c.Dur.Valid {
			st.TotalUS += c.Dur.Micros
			st.MaxUS = max(st.MaxUS, c.Dur.Micros)
			st.Complete++
		}
		fd, hasFD := c.FD()
		isW, isR, isS := IsWrite(c.Name), IsRead(c.Name), IsSync(c.Name)
		if (isW || isR) && c.RetKnown && c.Ret > 0 {
			st.Bytes += c.Ret
		}
		if !hasFD || !(isW || isR || isS) {
			continue
		}
		f := files[fd.Path]
		if f == nil {
			f = &FileIO{Path: fd.Path, Kind: fd.Kind(), WriteHist: make([]int, len(SizeBuckets)+1), ExampleLines: make([][]int, len(SizeBuckets)+1)}
			files[fd.Path] = f
		}
		key := taskFD{c.PID, fd.Num}
		if c.Errno != "" && (isW || isS) {
			if f.Failed == nil {
				f.Failed = map[string]int{}
			}
			f.Failed[c.Errno]++
			if f.FirstFailLine == 0 {
				f.FirstFailLine = c.Line
			}
		}
		switch {
		case isW:
			f.Writes++
			n := c.Ret
			if !c.RetKnown || n < 0 {
				n, _ = c.IntArg(2)
			}
			f.WriteBytes += max(n, 0)
			bk := sizeBucket(max(n, 0))
			f.WriteHist[bk]++
			if len(f.ExampleLines[bk]) < maxExamples {
				f.ExampleLines[bk] = append(f.ExampleLines[bk], c.Line)
			}
			f.WriteUS += c.Dur.Micros
			if f.FirstWriteLine == 0 {
				f.FirstWriteLine = c.Line
			}
			lastWrite[key] = true
		case isR:
			f.Reads++
			if c.RetKnown && c.Ret > 0 {
				f.ReadBytes += c.Ret
			}
			lastWrite[key] = false
		case isS:
			f.Syncs++
			f.SyncUS += c.Dur.Micros
			if f.FirstSyncLine == 0 {
				f.FirstSyncLine = c.Line
			}
			if lastWrite[key] {
				f.SyncAfterWrite++
			}
			lastWrite[key] = false
		}
	}
	for _, st := range stats {
		s.Syscalls = append(s.Syscalls, *st)
	}
	sort.Slice(s.Syscalls, func(i, j int) bool {
		if s.Syscalls[i].Calls != s.Syscalls[j].Calls {
			return s.Syscalls[i].Calls > s.Syscalls[j].Calls
		}
		return s.Syscalls[i].Name < s.Syscalls[j].Name
	})
	for _, f := range files {
		s.Files = append(s.Files, f)
	}
	sort.Slice(s.Files, func(i, j int) bool {
		a, b := s.Files[i], s.Files[j]
		if a.WriteBytes != b.WriteBytes {
			return a.WriteBytes > b.WriteBytes
		}
		if a.Writes != b.Writes {
			return a.Writes > b.Writes
		}
		return a.Path < b.Path
	})
	return s
}

// Summary returns the target's trace summary, or nil without a trace.
func (t *Target) Summary() *TraceSummary {
	if t.summary != nil || t.Trace == nil {
		return t.summary
	}
	secs := 0.0
	if s := t.Info.Strace; s != nil {
		secs = s.TracedSeconds
	}
	return Summarize(t.Trace, secs)
}

// TraceLine returns line n (1-based) of the target's trace, for citing:
// one of the lines its summary cites (TraceSummary.cited), "" for any
// other.
func (t *Target) TraceLine(n int) string { return t.quotes[n] }

// cited are the lines of the trace that rules and the report may quote:
// each file's example writes, its first write, its first sync and the
// line before it, its first failure.
func (s *TraceSummary) cited() map[int]bool {
	out := map[int]bool{}
	for _, f := range s.Files {
		for _, ex := range f.ExampleLines {
			for _, n := range ex {
				out[n] = true
			}
		}
		for _, n := range []int{f.FirstWriteLine, f.FirstSyncLine - 1, f.FirstSyncLine, f.FirstFailLine} {
			if n > 0 {
				out[n] = true
			}
		}
	}
	return out
}
