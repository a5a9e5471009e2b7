package procfs

import (
	"bytes"
	"fmt"
	"strconv"
)

// PIDStat is the part of /proc/PID/stat (proc(5); fs/proc/array.c
// do_task_stat) that IO analysis uses. Field numbers are proc(5)'s.
type PIDStat struct {
	PID   int    // (1)
	Comm  string // (2), without the parentheses; may hold spaces and ')'
	State byte   // (3) R, S, D, Z, T, t, X, I, ...
	PPID  int    // (4)
	// Flags is the kernel's PF_* task flags (9); PF_KTHREAD marks a
	// kernel thread.
	Flags uint64
	// MinFlt (10) and MajFlt (12) count page faults: a major one had to
	// read the page from disk — from swap, or from a file it maps.
	MinFlt, MajFlt uint64
	UTime          uint64 // (14) clock ticks
	STime          uint64 // (15) clock ticks
	Priority       int64  // (18)
	Nice           int64  // (19)
	NumThreads     int64  // (20)
	// StartTime (22) is the start time in clock ticks after boot; with PID
	// it names a process even after the PID is reused.
	StartTime uint64
	VSize     uint64 // (23) bytes
	RSS       int64  // (24) pages
	Processor int64  // (39)
	// DelayAcctBlkioTicks (42) is the aggregated block-IO delay of this
	// task (the thread-group leader's own, not a process sum) in clock
	// ticks. It stays 0 unless kernel.task_delayacct was on when the
	// task started.
	DelayAcctBlkioTicks uint64
	// Fields is how many fields the line had; kernels before 2.6.18 have
	// no field 42.
	Fields int
}

// pfKthread is PF_KTHREAD from include/linux/sched.h.
const pfKthread = 0x00200000

// IsKernelThread reports whether the task is a kernel thread.
func (s PIDStat) IsKernelThread() bool { return s.Flags&pfKthread != 0 }

// minStatFields is the fewest fields accepted: through (24) rss.
const minStatFields = 24

// ParsePIDStat parses the first line of /proc/PID/stat. The comm field is
// taken between the first '(' and the last ')', as pidstat does, because a
// process can name itself "a) (b".
func ParsePIDStat(b []byte) (PIDStat, error) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return PIDStat{}, fmt.Errorf("pid stat: no (comm) in %q", truncate(b))
	}
	var s PIDStat
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return PIDStat{}, fmt.Errorf("pid stat: pid: %w", err)
	}
	s.PID = pid
	s.Comm = string(b[open+1 : closing])
	rest := bytes.Fields(b[closing+1:])
	s.Fields = len(rest) + 2
	if s.Fields < minStatFields {
		return PIDStat{}, fmt.Errorf("pid stat: want at least %d fields, got %d", minStatFields, s.Fields)
	}
	field := func(n int) []byte { return rest[n-3] }
	if len(field(3)) != 1 {
		return PIDStat{}, fmt.Errorf("pid stat: state %q is not one letter", field(3))
	}
	s.State = field(3)[0]
	var errs []error
	u := func(n int) uint64 {
		v, err := strconv.ParseUint(string(field(n)), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("field %d: %w", n, err))
		}
		return v
	}
	i := func(n int) int64 {
		v, err := strconv.ParseInt(string(field(n)), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("field %d: %w", n, err))
		}
		return v
	}
	s.PPID = int(i(4))
	s.Flags = u(9)
	s.MinFlt = u(10)
	s.MajFlt = u(12)
	s.UTime = u(14)
	s.STime = u(15)
	s.Priority = i(18)
	s.Nice = i(19)
	s.NumThreads = i(20)
	s.StartTime = u(22)
	s.VSize = u(23)
	s.RSS = i(24)
	if s.Fields >= 39 {
		s.Processor = i(39)
	}
	if s.Fields >= 42 {
		s.DelayAcctBlkioTicks = u(42)
	}
	if len(errs) > 0 {
		return PIDStat{}, fmt.Errorf("pid stat: %w", errs[0])
	}
	return s, nil
}
