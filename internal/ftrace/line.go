package ftrace

import (
	"bytes"
	"strconv"
)

// Event is one line of trace_pipe:
//
//	COMM-PID [CPU] FLAGS SECONDS: EVENT: FIELDS
//
// COMM-PID is the task running when the event fired: the application for
// synchronous and direct IO, a kworker for writeback, jbd2/DEV for journal
// commits, whoever took the interrupt for a completion.
type Event struct {
	Comm string
	// PID is the thread's id; TGID its process's, when the instance
	// records it (options/record-tgid: "COMM-PID (TGID) [CPU]"), else 0.
	PID, TGID int
	CPU       int
	// TimeNS is the timestamp in nanoseconds of the instance's
	// trace_clock (mono: CLOCK_MONOTONIC, as the bundle's frames).
	TimeNS int64
	Name   string
	// Fields is the event's text after "EVENT: ", aliasing the input.
	Fields []byte
}

// ParseLine parses one trace_pipe line; ok is false for a line in no
// event form (a "CPU:N [LOST N EVENTS]" notice, a cut last line).
func ParseLine(line []byte) (Event, bool) {
	var e Event
	// The CPU field is the first " [digits]" : a comm may hold spaces
	// and dashes, but the kernel prints it before the CPU.
	i := 0
	for {
		j := bytes.Index(line[i:], []byte(" ["))
		if j < 0 {
			return e, false
		}
		i += j
		k := i + 2
		for k < len(line) && line[k] >= '0' && line[k] <= '9' {
			k++
		}
		if k > i+2 && k < len(line) && line[k] == ']' {
			cpu, _ := strconv.Atoi(string(line[i+2 : k]))
			e.CPU = cpu
			task := bytes.TrimSpace(line[:i])
			if bytes.HasSuffix(task, []byte(")")) {
				if open := bytes.LastIndexByte(task, '('); open >= 0 {
					e.TGID, _ = strconv.Atoi(string(bytes.TrimSpace(task[open+1 : len(task)-1])))
					task = bytes.TrimSpace(task[:open])
				}
			}
			dash := bytes.LastIndexByte(task, '-')
			if dash <= 0 {
				return e, false
			}
			pid, err := strconv.Atoi(string(task[dash+1:]))
			if err != nil {
				return e, false
			}
			e.Comm, e.PID = string(task[:dash]), pid
			line = line[k+1:]
			break
		}
		i += 2
	}
	// FLAGS (irqs-off, need-resched, hardirq/softirq, preempt depth) are
	// one token; some kernels or options omit them.
	toks := bytes.Fields(line[:min(len(line), 64)])
	if len(toks) == 0 {
		return e, false
	}
	tsTok := toks[0]
	if !bytes.HasSuffix(tsTok, []byte(":")) {
		if len(toks) < 2 {
			return e, false
		}
		tsTok = toks[1]
	}
	if !bytes.HasSuffix(tsTok, []byte(":")) {
		return e, false
	}
	ts, ok := parseSeconds(tsTok[:len(tsTok)-1])
	if !ok {
		return e, false
	}
	e.TimeNS = ts
	rest := line[bytes.Index(line, tsTok)+len(tsTok):]
	rest = bytes.TrimLeft(rest, " ")
	colon := bytes.IndexByte(rest, ':')
	if colon <= 0 {
		return e, false
	}
	e.Name = string(rest[:colon])
	e.Fields = bytes.TrimLeft(rest[colon+1:], " ")
	return e, true
}

// parseSeconds parses "1729.632924" (seconds with up to nine decimals)
// into nanoseconds.
func parseSeconds(b []byte) (int64, bool) {
	dot := bytes.IndexByte(b, '.')
	if dot < 0 {
		s, err := strconv.ParseInt(string(b), 10, 64)
		return s * 1e9, err == nil && s >= 0
	}
	s, err := strconv.ParseInt(string(b[:dot]), 10, 64)
	if err != nil || s < 0 {
		return 0, false
	}
	frac := b[dot+1:]
	if len(frac) == 0 || len(frac) > 9 {
		return 0, false
	}
	f, err := strconv.ParseInt(string(frac), 10, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	for n := len(frac); n < 9; n++ {
		f *= 10
	}
	return s*1e9 + f, true
}
