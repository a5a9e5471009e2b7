package rules

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// smallWrites reports a process that issues many small write() calls to
// one file. Evidence: strace write sizes per fd path, and /proc/PID/io
// wchar/syscw over the whole window (not slowed by strace). Pipes,
// sockets and ttys are never counted. Without a trace it fires only when
// the process has a single writable regular file open, with medium
// confidence.
var smallWrites = &Rule{ID: "small-writes",
	Role: content.Cause, Check: checkSmallWrites, PerApp: true, CountsCalls: true,
	Deciding: [][]Condition{
		{
			{Figure: FigWritesPerS, Threshold: func(t window.Thresholds) float64 { return t.SmallWriteMinPerSec }, What: "writes a second"},
			deviceShareCondition,
		},
		{{Figure: FigAvgBytes, Threshold: func(t window.Thresholds) float64 { return t.SmallWriteMaxAvg }, Below: true, What: "bytes per write"}},
	},
	Traced: &Traced{Figure: FigWrites, What: "writes"},
	Shows:  SmallPieces,
	Clause: smallWritesClause,
	Watch:  []Watch{WatchProcess, AlertContainerWrites},
}

func checkSmallWrites(c *window.Window) []content.Finding {
	var out []fileFinding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil {
			continue
		}
		if tv.Summary != nil && tv.Target.Info.Strace != nil && tv.Target.Info.Strace.TracedSeconds > 0 {
			for _, f := range tv.Summary.Files {
				rate := c.WriteRate(tv, f)
				if f.Kind != "file" || f.Writes == 0 || f.AvgWrite() >= c.Thresholds.SmallWriteMaxAvg {
					continue
				}
				if _, mem := c.InMemory(tv, f.Path); mem {
					continue // no page to amplify on a device: cpu-cost weighs the calls
				}
				cost, costly := costly(c, tv, f.Path)
				if rate < c.Thresholds.SmallWriteMinPerSec && !costly {
					continue
				}
				fnd := smallWritesFinding(c, tv, f, rate, content.High, "")
				if costly {
					fnd.Evidence = append(fnd.Evidence, cost)
				}
				gradeByDeviceCost(&fnd, tv, costly)
				name := window.Name(p)
				out = append(out, fileFinding{Finding: fnd, Mechanism: "small", Calls: f.Writes, Rate: rate,
					Title: func(files string, rate float64) string {
						return fmt.Sprintf("%s writes %s in small pieces, %.0f times a second in all", name, files, rate)
					}})
			}
			continue
		}
		// No trace: the averages of /proc/PID/io and the only file open
		// for writing.
		io := tv.IO
		if io == nil || io.Delta.IO.SyscW == 0 || io.Seconds <= 0 {
			continue
		}
		files := writableFiles(tv.Target)
		if len(files) != 1 {
			continue
		}
		if _, mem := c.InMemory(tv, files[0]); mem {
			continue
		}
		rate := float64(io.Delta.IO.SyscW) / io.Seconds
		avg := float64(io.Delta.IO.WChar) / float64(io.Delta.IO.SyscW)
		cost, costly := costly(c, tv, files[0])
		if (rate < c.Thresholds.SmallWriteMinPerSec && !costly) || avg >= c.Thresholds.SmallWriteMaxAvg {
			continue
		}
		f := &model.FileIO{Path: files[0], Kind: "file", Writes: int(io.Delta.IO.SyscW), WriteBytes: io.Delta.IO.WChar}
		fnd := smallWritesFinding(c, tv, f, rate, content.Medium, "no strace of this process: the size is /proc/PID/io's average and the file is its only writable file descriptor")
		if costly {
			fnd.Evidence = append(fnd.Evidence, cost)
		}
		gradeByDeviceCost(&fnd, tv, costly)
		out = append(out, fileFinding{Finding: fnd})
	}
	return mergePerProcess(out)
}

func smallWritesFinding(c *window.Window, tv *window.TargetView, f *model.FileIO, rate float64, conf content.Confidence, why string) content.Finding {
	p := tv.Target.Process
	fd := content.Finding{
		ID: "small-writes", Severity: content.Warning, Confidence: conf, ConfidenceWhy: why, Score: rate,
		Title:    fmt.Sprintf("%s writes %s in %.0f-byte pieces, %.0f times a second", window.Name(p), f.Path, f.AvgWrite(), rate),
		Summary:  fmt.Sprintf("%s writes %s %.0f times a second in pieces of %.0f bytes on average (its untraced write syscalls; strace saw %d such writes): every call is a syscall%s.", window.Name(p), f.Path, rate, f.AvgWrite(), f.Writes, pageCost(tv)),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: f.Path},
	}
	var whose string
	fd.Subjects.Container, whose = subjectContainer(c, p, f.Path)
	fd.Summary += whose
	if tr := tv.Target.Info.Strace; tr != nil && tr.Member != "" && f.FirstWriteLine > 0 {
		hist := []string{}
		for i, n := range f.WriteHist {
			if n > 0 {
				hist = append(hist, fmt.Sprintf("%s: %d", model.SizeBucketNames[i], n))
			}
		}
		fd.Evidence = append(fd.Evidence, content.Evidence{Member: tr.Member, What: fmt.Sprintf("strace over %.1f s: %d writes to %s, %d bytes, %.1f bytes each on average (%s); writes %s",
			tr.TracedSeconds, f.Writes, f.Path, f.WriteBytes, f.AvgWrite(), strings.Join(hist, ", "), f.WriteLat.Mean()),
			Figures: map[string]float64{FigWrites: float64(f.Writes), FigAvgBytes: f.AvgWrite(), FigWritesPerS: rate},
			Lines:   traceLines(tv.Target, f.TypicalWriteLines())})
	}
	if io := tv.IO; io != nil && io.Delta.IO.SyscW > 0 {
		fd.Evidence = append(fd.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
			What:    fmt.Sprintf("/proc/%d/io over %.1f s (untraced too): %d write syscalls (%.0f/s) carrying wchar %d bytes, %.0f bytes per call", p.PID, io.Seconds, io.Delta.IO.SyscW, float64(io.Delta.IO.SyscW)/io.Seconds, io.Delta.IO.WChar, float64(io.Delta.IO.WChar)/float64(io.Delta.IO.SyscW)),
			Figures: map[string]float64{FigSyscw: float64(io.Delta.IO.SyscW), FigWchar: float64(io.Delta.IO.WChar)}})
	}
	fd.Mitigations = []content.Mitigation{
		{Horizon: content.ShortTerm, Key: advice.BufferKey(p), Subject: f.Path, Action: "Buffer the writes to " + f.Path, How: advice.BufferHow(p, f.Path), Effect: advice.BufferEffect(f.Path, rate, f.AvgWrite())},
	}
	if advice.LogKind(f.Path) == "log" {
		// A record log may go to a collector, where a lost line is a
		// line; a WAL, or a data file, must stay where it is made
		// durable.
		fd.Mitigations = append(fd.Mitigations, content.Mitigation{Horizon: content.LongTerm, Action: "Send high-rate records to a collector instead of a file", How: "A local agent or socket (syslog, fluent-bit) that batches", Effect: "The application no longer pays a syscall and a page per record"})
	}
	if p.RuntimeKind() != "" {
		// A runtime copies a container's output as it comes: the
		// container's logging is what to buffer (container-log-flood's
		// row), not the runtime.
		fd.Mitigations[0].Subject = ""
		fd.Mitigations[0].Action, fd.Mitigations[0].How = "Buffer the container's output at its source", "Log through a buffered writer inside the container; "+window.Name(p)+" writes what it is given"
	}
	return fd
}

// writableFiles lists a target's regular files open for writing.
func writableFiles(t *model.Target) []string {
	var out []string
	for _, fd := range t.FDs {
		if fd.Info != nil && fd.Info.Flags.Writable() && strings.HasPrefix(fd.Path, "/") && !strings.HasPrefix(fd.Path, "/dev/") && !strings.HasPrefix(fd.Path, "/proc/") && !strings.HasPrefix(fd.Path, "/sys/") {
			out = append(out, strings.TrimSuffix(fd.Path, " (deleted)"))
		}
	}
	return out
}

// traceLines quotes the given lines of a target's trace.
func traceLines(t *model.Target, lines []int) []string {
	var out []string
	for _, n := range lines {
		if l := t.TraceLine(n); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// exampleLines quotes n lines of a target's trace from line first on.
func exampleLines(t *model.Target, first, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		if l := t.TraceLine(first + i); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Pieces says how a small writer writes, from its finding's figures
// ("in 58-byte pieces, 1479 times a second"; false without them): the
// verdict's clause and the report's headline say it in these words.
func Pieces(f *content.Finding) (string, bool) {
	avg, ok1 := f.Figure(FigAvgBytes)
	rate, ok2 := f.Figure(FigWritesPerS)
	if !ok1 || !ok2 {
		return "", false
	}
	return fmt.Sprintf("in %.0f-byte pieces, %.0f times a second", avg, rate), true
}

// smallWritesClause says, in a verdict about the writer, how it writes:
// its file, the size of its pieces and their rate.
func smallWritesClause(f *content.Finding) string {
	p, ok := Pieces(f)
	if !ok {
		return " " + f.Title + "."
	}
	return fmt.Sprintf(" It writes %s %s.", f.Subjects.Path, p)
}

// pageRatio is write_bytes over wchar for a target: how many bytes of
// pages its writes dirtied for each byte it handed to write() (false
// without its counters).
func pageRatio(tv *window.TargetView) (float64, bool) {
	if tv.IO == nil || tv.IO.Delta.IO.WChar <= 0 {
		return 0, false
	}
	return float64(tv.IO.Delta.IO.WriteBytes) / float64(tv.IO.Delta.IO.WChar), true
}

// pageAmplified is the page ratio from which each small write dirties a
// whole page again instead of filling the one the last write dirtied.
const pageAmplified = 2

// gradeByDeviceCost makes a small-writes finding info when its writes
// cost the device nothing beyond their bytes: buffered appends that fill
// the same dirty page, holding no share of a device's time. Their cost
// is syscalls (cpu-cost weighs those), not IO.
func gradeByDeviceCost(f *content.Finding, tv *window.TargetView, costly bool) {
	if ratio, ok := pageRatio(tv); ok && !costly && ratio < pageAmplified {
		f.Severity = content.Info
	}
}

// pageCost says what a small write costs in pages, from the process's
// write_bytes against its wchar: where each write is synced or written
// back before the next, each dirties its page again (write_bytes many
// times wchar); buffered appends fill the same dirty page and cost no
// more pages than bytes.
func pageCost(tv *window.TargetView) string {
	ratio, ok := pageRatio(tv)
	if !ok {
		return ""
	}
	if ratio >= pageAmplified {
		return fmt.Sprintf(", and each dirties a whole page again (write_bytes %.0f times wchar): it is written out before the next write lands in it", ratio)
	}
	return ", while the pages cost no more than the bytes: successive writes fill the same dirty page (write_bytes about wchar)"
}
