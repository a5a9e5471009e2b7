package model

import (
	"sort"
	"strconv"
	"strings"

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
		text := l.traced[s.Member]
		if text == nil {
			continue
		}
		tg.TraceText = text
		tg.Trace = strace.Parse(text)
		tg.TraceStart = s.Start.Wall
		// Summarised once; the calls themselves are let go (a trace of
		// a busy writer holds hundreds of thousands).
		tg.summary = Summarize(tg.Trace, s.TracedSeconds)
		tg.Trace.Calls = nil
	}
}
