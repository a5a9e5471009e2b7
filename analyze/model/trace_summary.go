package model

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iorca/iorca/analyze/strace"
)

// IsWrite, IsRead and IsSync classify a syscall name: switches, not maps,
// as the summary asks three times for each of a trace's calls.
func IsWrite(name string) bool {
	switch name {
	case "write", "pwrite64", "writev", "pwritev", "pwritev2":
		return true
	}
	return false
}

// IsRead reports a read-family syscall.
func IsRead(name string) bool {
	switch name {
	case "read", "pread64", "readv", "preadv", "preadv2":
		return true
	}
	return false
}

// IsSync reports a sync-family syscall.
func IsSync(name string) bool {
	switch name {
	case "fsync", "fdatasync", "sync_file_range", "syncfs", "msync":
		return true
	}
	return false
}

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
	// WriteLat and SyncLat are the times of its writes and syncs.
	WriteLat, SyncLat Latency
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
	// Open counts the calls still in progress when the trace ended.
	Open int
	// OpenUS is the longest of them until the trace's end.
	OpenUS int64
}

// Latency is how long the completed calls of a set took, and which of
// the set were still in progress when the trace ended. Those last are no
// 0 µs calls: strace printed their entry and never their return, so
// their duration is unknown, only bounded below by the trace's end. They
// are left out of the mean, and Note says so.
type Latency struct {
	// Calls counts the calls with a duration; TotalUS sums it.
	Calls   int
	TotalUS int64
	// Open counts the calls in progress at the trace's end; OpenUS is
	// the longest time one of them had run by then.
	Open   int
	OpenUS int64
}

// AvgUS is the mean duration of the completed calls, 0 without one.
func (l Latency) AvgUS() float64 {
	if l.Calls == 0 {
		return 0
	}
	return float64(l.TotalUS) / float64(l.Calls)
}

// Note says, for a report, which calls the mean leaves out: "" when none,
// else a parenthesis that starts with a space.
func (l Latency) Note() string {
	switch {
	case l.Open == 0:
		return ""
	case l.Open == 1:
		return fmt.Sprintf(" (over the %d that returned; 1 more was still in progress when the trace ended, after at least %s)", l.Calls, FormatUS(float64(l.OpenUS)))
	}
	return fmt.Sprintf(" (over the %d that returned; %d more were still in progress when the trace ended, one after at least %s)", l.Calls, l.Open, FormatUS(float64(l.OpenUS)))
}

// Mean is "N µs each on average" with its Note: one wording of one mean
// for every place that quotes it.
func (l Latency) Mean() string {
	return fmt.Sprintf("%.0f µs each on average%s", l.AvgUS(), l.Note())
}

// Merge adds another set of calls.
func (l *Latency) Merge(o Latency) {
	l.Calls += o.Calls
	l.TotalUS += o.TotalUS
	l.Open += o.Open
	l.OpenUS = max(l.OpenUS, o.OpenUS)
}

// add counts one call's time: its duration, or, for a call the trace
// ended in, how long it had run by then.
func (l *Latency) add(c *strace.Syscall, end strace.Timestamp) {
	switch {
	case c.Dur.Valid:
		l.Calls++
		l.TotalUS += c.Dur.Micros
	case inProgress(c, end):
		l.Open++
		l.OpenUS = max(l.OpenUS, end.Micros-c.Start.Micros)
	}
}

// Latency is the syscall's time, as Latency says.
func (s SyscallStat) Latency() Latency {
	return Latency{Calls: s.Complete, TotalUS: s.TotalUS, Open: s.Open, OpenUS: s.OpenUS}
}

// inProgress reports a call whose entry the trace holds and whose return
// it never printed: it was still running when the trace ended.
func inProgress(c *strace.Syscall, end strace.Timestamp) bool {
	return c.Incomplete && !c.Dur.Valid && c.Start.Valid && end.Valid && end.Micros >= c.Start.Micros
}

// FormatUS writes a duration in µs as a person reads it: µs below a
// millisecond, ms below ten seconds, else seconds.
func FormatUS(us float64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 10e6:
		return fmt.Sprintf("%.1f ms", us/1000)
	}
	return fmt.Sprintf("%.1f s", us/1e6)
}

// traceEnd is when strace stopped, on the trace's own clock: the detach
// time the collector recorded, else the last time the trace holds (never
// earlier than that).
func traceEnd(t *strace.Trace, detach time.Time, seconds float64) strace.Timestamp {
	end := lastTime(t)
	if !end.Valid || detach.IsZero() {
		return end
	}
	d := strace.Timestamp{Valid: true, Epoch: end.Epoch, Micros: detach.UnixMicro()}
	if !end.Epoch {
		// -tt prints the local time of day, and the bundle holds no time
		// zone: the offset is what separates the first line from the
		// attach, to the nearest quarter hour (zones are multiples of it;
		// the first line follows the attach by far less).
		const day, quarter = int64(86400e6), int64(900e6)
		first := firstTime(t)
		attach := detach.Add(-time.Duration(seconds * float64(time.Second)))
		tod := func(w time.Time) int64 {
			return (w.UnixMicro()%day + day) % day
		}
		off := ((first.Micros-tod(attach))%day + day + day/2) % day
		off -= day / 2
		off = (off + quarter/2*sign(off)) / quarter * quarter
		d.Micros = (tod(detach)+off)%day + day
		d.Micros %= day
	}
	if d.Micros > end.Micros && d.Micros-end.Micros < int64(max(seconds, 1)*1e6) {
		return d
	}
	return end
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// firstTime is the earliest time the trace holds.
func firstTime(t *strace.Trace) strace.Timestamp {
	var first strace.Timestamp
	for i := range t.Calls {
		if ts := t.Calls[i].Start; ts.Valid && (!first.Valid || ts.Micros < first.Micros) {
			first = ts
		}
	}
	return first
}

// lastTime is the latest time the trace holds.
func lastTime(t *strace.Trace) strace.Timestamp {
	var end strace.Timestamp
	later := func(ts strace.Timestamp) {
		if ts.Valid && (!end.Valid || ts.Micros > end.Micros) {
			end = ts
		}
	}
	for i := range t.Calls {
		later(t.Calls[i].Start)
		later(t.Calls[i].End)
	}
	for _, e := range t.Events {
		later(e.Time)
	}
	return end
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
	// Truncated counts, by path, the calls that cut a file to nothing
	// (ftruncate or truncate to 0, an open with O_TRUNC for writing).
	Truncated map[string]int
	// Durable is the file-by-file durability pattern (durable.go), nil
	// when the trace holds none.
	Durable *Durable
	// Listed counts getdents64 calls by directory: a scan of a tree.
	Listed map[string]int
	// Msyncs sums the msync calls, nil without one.
	Msyncs *Msyncs
	// SyncAll sums the sync() and syncfs() calls (whole-system and
	// whole-filesystem writeback), nil without one.
	SyncAll *SyncAll
}

// Summarize reduces a parsed trace whose end is its last line.
func Summarize(t *strace.Trace, seconds float64) *TraceSummary {
	return SummarizeUntil(t, seconds, time.Time{})
}

// SummarizeUntil reduces a parsed trace that strace stopped at detach (the
// collector's clock; zero when unknown): a call still in progress then
// had run at least until that moment.
func SummarizeUntil(t *strace.Trace, seconds float64, detach time.Time) *TraceSummary {
	s := &TraceSummary{Seconds: seconds, Lines: t.Lines, Malformed: len(t.Malformed), Orphans: t.Orphans, Truncated: truncatedFiles(t)}
	stats := map[string]*SyscallStat{}
	files := map[string]*FileIO{}
	// last records, per task and fd, whether the last call was a write.
	// The path is part of the key: a descriptor number is reused (a
	// file's, closed on one thread, then a directory's), and a sync of
	// the directory is no sync after the file's write.
	type taskFD struct {
		pid, fd int
		path    string
	}
	lastWrite := map[taskFD]bool{}
	end := traceEnd(t, detach, seconds)
	durable := newDurableTracker()
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
		} else if inProgress(c, end) {
			st.Open++
			st.OpenUS = max(st.OpenUS, end.Micros-c.Start.Micros)
		}
		switch c.Name {
		case "msync":
			if s.Msyncs == nil {
				s.Msyncs = &Msyncs{}
			}
			s.Msyncs.add(c, end)
		case "sync", "syncfs":
			if s.SyncAll == nil {
				s.SyncAll = &SyncAll{}
			}
			s.SyncAll.add(c, end)
		}
		fd, hasFD := c.FD()
		isW, isR, isS := IsWrite(c.Name), IsRead(c.Name), IsSync(c.Name)
		durable.call(c, fd, hasFD, end)
		if c.Name == "getdents64" && hasFD {
			if s.Listed == nil {
				s.Listed = map[string]int{}
			}
			s.Listed[fd.Path]++
		}
		switch {
		case (isW || isR) && c.RetKnown && c.Ret > 0:
			st.Bytes += c.Ret
		case isW && !c.RetKnown:
			// A write the trace ended in: the bytes it was asked to
			// write, as its file's figures count it.
			if n, ok := c.IntArg(2); ok && n > 0 {
				st.Bytes += n
			}
		}
		if !hasFD || !(isW || isR || isS) {
			continue
		}
		f := files[fd.Path]
		if f == nil {
			f = &FileIO{Path: fd.Path, Kind: fd.Kind(), WriteHist: make([]int, len(SizeBuckets)+1), ExampleLines: make([][]int, len(SizeBuckets)+1)}
			files[fd.Path] = f
		}
		key := taskFD{c.PID, fd.Num, fd.Path}
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
			f.WriteLat.add(c, end)
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
			f.SyncLat.add(c, end)
			if f.FirstSyncLine == 0 {
				f.FirstSyncLine = c.Line
			}
			if lastWrite[key] {
				f.SyncAfterWrite++
			}
			lastWrite[key] = false
		}
	}
	s.Durable = durable.result()
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
	s.detach()
	return s
}

// detach gives the summary its own copies of the strings it took from the
// calls: those are substrings of the trace's text (strace.ParseText), and
// one kept would keep the whole text alive for the rest of the report.
func (s *TraceSummary) detach() {
	for i := range s.Syscalls {
		s.Syscalls[i].Name = strings.Clone(s.Syscalls[i].Name)
	}
	for _, f := range s.Files { // Kind is one of FD.Kind's literals
		f.Path = strings.Clone(f.Path)
		f.Failed = cloneKeys(f.Failed)
	}
	s.Truncated = cloneKeys(s.Truncated)
	s.Listed = cloneKeys(s.Listed)
	if d := s.Durable; d != nil {
		d.Dirs, d.Paths, d.Cut = cloneKeys(d.Dirs), cloneKeys(d.Paths), cloneKeys(d.Cut)
	}
	if m := s.Msyncs; m != nil {
		m.Failed = cloneKeys(m.Failed)
	}
	if a := s.SyncAll; a != nil {
		a.Filesystems = cloneKeys(a.Filesystems)
	}
}

// cloneKeys is m with its keys copied (nil for nil).
func cloneKeys(m map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[strings.Clone(k)] = v
	}
	return out
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
	if s.Durable != nil {
		for _, n := range s.Durable.Lines {
			out[n] = true
		}
	}
	if s.Msyncs != nil && s.Msyncs.FirstLine > 0 {
		out[s.Msyncs.FirstLine] = true
	}
	if s.SyncAll != nil {
		for _, n := range s.SyncAll.Lines {
			out[n] = true
		}
	}
	return out
}
