package model

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/iorca/iorca/analyze/strace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// target decodes a target's description: cmdline, status, mounts, fds
// with their fdinfo, where it sleeps in the kernel.
func (l *loader) target(member string, data []byte) error {
	pid, ok := bundle.ParseTargetMember(member)
	if !ok {
		l.note(member, "", "a target member whose name holds no PID")
		return nil
	}
	tg := &Target{}
	for _, info := range l.m.Manifest.Targets {
		if info.PID == pid {
			tg.Info = info
		}
	}
	fds := map[int]*FD{}
	err := l.frames(member, data, func(f bundle.Frame) {
		if f.Status != bundle.StatusOK {
			return
		}
		_, file, ok := pidPath(f.Path)
		if !ok {
			return
		}
		switch {
		case file == "cmdline":
			tg.Cmdline = splitCmdline(f.Data)
		case file == "status":
			if s, err := procfs.ParsePIDStatus(f.Data); err == nil {
				tg.Status = &s
			}
		case file == "mountinfo":
			tg.Mounts, _ = procfs.ParseMountinfo(f.Data)
		case file == "maps":
			tg.Maps, _ = procfs.ParsePIDMaps(f.Data)
		case file == "wchan":
			tg.Wchan = string(f.Data)
		case file == "stack":
			tg.Stack = string(f.Data)
		case strings.HasPrefix(file, "fd/"), strings.HasPrefix(file, "fdinfo/"):
			kind, num, _ := strings.Cut(file, "/")
			n, err := strconv.Atoi(num)
			if err != nil {
				return
			}
			fd := fds[n]
			if fd == nil {
				fd = &FD{Num: n}
				fds[n] = fd
			}
			if kind == "fd" {
				fd.Path = string(f.Data)
			} else if fi, err := procfs.ParseFDInfo(f.Data); err == nil {
				fd.Info = &fi
			}
		}
	})
	if err != nil {
		return err
	}
	for _, fd := range fds {
		tg.FDs = append(tg.FDs, *fd)
	}
	sort.Slice(tg.FDs, func(i, j int) bool { return tg.FDs[i].Num < tg.FDs[j].Num })
	l.m.Targets = append(l.m.Targets, tg)
	return nil
}

// traces attaches each target's strace.
func (l *loader) traces() {
	for _, tg := range l.m.Targets {
		s := tg.Info.Strace
		if s == nil || s.Member == "" {
			continue
		}
		p := l.parsed[s.Member]
		if p == nil {
			continue
		}
		tg.Trace, tg.summary, tg.quotes = p.trace, p.summary, p.quotes
		tg.TraceStart = s.Start.Wall
	}
}

// parsedTrace is a strace member reduced to what the model keeps.
type parsedTrace struct {
	trace   *strace.Trace
	summary *TraceSummary
	quotes  map[int]string
}

// parseTrace parses and summarises a trace, then lets its calls and its
// text go (a trace of a busy writer holds hundreds of thousands of
// lines): only the lines the summary cites are kept. text must be the
// caller's to give (bundle.Reader.Keep) and never written again: the
// calls are parsed on it in place, as a string that shares its bytes,
// and the summary keeps copies of what it takes from them.
func parseTrace(text []byte, info *bundle.StraceInfo) *parsedTrace {
	tr := strace.ParseText(unsafe.String(unsafe.SliceData(text), len(text)))
	sum := SummarizeUntil(tr, info.TracedSeconds, info.Start.Wall.Add(time.Duration(info.TracedSeconds*float64(time.Second))))
	tr.Calls = nil
	return &parsedTrace{trace: tr, summary: sum, quotes: quoteLines(text, sum.cited())}
}

// quoteLines copies the lines of text numbered in want (1-based, as
// strace.Parse numbers them).
func quoteLines(text []byte, want map[int]bool) map[int]string {
	out := make(map[int]string, len(want))
	for n := 1; len(text) > 0 && len(out) < len(want); n++ {
		line, rest, _ := bytes.Cut(text, []byte{'\n'})
		if want[n] {
			out[n] = string(line)
		}
		text = rest
	}
	return out
}
