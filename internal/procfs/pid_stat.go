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
	// CUTime (16) and CSTime (17) are the CPU time of the children it
	// waited for, in clock ticks: they grow when it reaps a child — the
	// moment the kernel also adds the child's IO counters to its
	// /proc/PID/io (REFERENCE-IO.md §14). A value that is not a number
	// (some test files hold int64 extremes) reads as 0.
	CUTime, CSTime int64
	Priority       int64 // (18)
	Nice           int64 // (19)
	NumThreads     int64 // (20)
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
	// The fields after comm are read in one pass, without splitting the
	// line into a slice: this runs for every process in every tick.
	rest := b[closing+1:]
	var errs []error
	n := 2 // fields seen: pid and comm
	for i := 0; i < len(rest); {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\n') {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != ' ' && rest[j] != '\t' && rest[j] != '\n' {
			j++
		}
		if j == i {
			break
		}
		tok := rest[i:j]
		i = j
		n++
		if n == 3 {
			if len(tok) != 1 {
				return PIDStat{}, fmt.Errorf("pid stat: state %q is not one letter", tok)
			}
			s.State = tok[0]
			continue
		}
		u := func() uint64 {
			v, err := parseUint(tok)
			if err != nil {
				errs = append(errs, fmt.Errorf("field %d: %w", n, err))
			}
			return v
		}
		i64 := func() int64 {
			neg := len(tok) > 1 && tok[0] == '-'
			t := tok
			if neg {
				t = tok[1:]
			}
			v, err := parseUint(t)
			if err != nil || v > 1<<63-1 {
				errs = append(errs, fmt.Errorf("field %d: %q is not an integer", n, tok))
			}
			if neg {
				return -int64(v)
			}
			return int64(v)
		}
		switch n {
		case 4:
			s.PPID = int(i64())
		case 9:
			s.Flags = u()
		case 10:
			s.MinFlt = u()
		case 12:
			s.MajFlt = u()
		case 14:
			s.UTime = u()
		case 15:
			s.STime = u()
		case 16, 17:
			// Lenient: the children's times only tell that a child was
			// reaped; a bad value must not cost the fields that matter.
			var v int64
			if x, err := parseUint(bytes.TrimPrefix(tok, []byte{'-'})); err == nil && x <= 1<<63-1 {
				v = int64(x)
				if tok[0] == '-' {
					v = -v
				}
			}
			if n == 16 {
				s.CUTime = v
			} else {
				s.CSTime = v
			}
		case 18:
			s.Priority = i64()
		case 19:
			s.Nice = i64()
		case 20:
			s.NumThreads = i64()
		case 22:
			s.StartTime = u()
		case 23:
			s.VSize = u()
		case 24:
			s.RSS = i64()
		case 39:
			s.Processor = i64()
		case 42:
			s.DelayAcctBlkioTicks = u()
		}
	}
	s.Fields = n
	if s.Fields < minStatFields {
		return PIDStat{}, fmt.Errorf("pid stat: want at least %d fields, got %d", minStatFields, s.Fields)
	}
	if len(errs) > 0 {
		return PIDStat{}, fmt.Errorf("pid stat: %w", errs[0])
	}
	return s, nil
}

// parseUint parses a decimal unsigned integer without converting to a
// string (strconv would need one, an allocation per field).
func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, fmt.Errorf("%q is not an unsigned integer", b)
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an unsigned integer", b)
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, fmt.Errorf("%q overflows 64 bits", b)
		}
		v = v*10 + d
	}
	return v, nil
}
