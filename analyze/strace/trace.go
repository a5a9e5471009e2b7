package strace

import (
	"fmt"
	"strconv"
	"strings"
)

// Syscall is one syscall with its entry and exit joined.
type Syscall struct {
	PID  int
	Name string
	// Start is the entry time, End the exit time; they differ only for a
	// call printed as unfinished and resumed.
	Start, End Timestamp
	// Args are the top-level arguments, raw.
	Args []string
	// Ret is the return value; RetKnown is false for "?".
	Ret      int64
	RetKnown bool
	Errno    string
	Dur      Duration
	// Incomplete is true for an entry never resumed (the trace ended or
	// strace detached) or a resumed line whose entry is not in the trace.
	Incomplete bool
	// Line is the 1-based line number of the entry in the trace, for
	// citing it as evidence.
	Line int
}

// FD returns the syscall's first argument as a decorated descriptor.
func (s *Syscall) FD() (FD, bool) {
	if len(s.Args) == 0 {
		return FD{}, false
	}
	return ParseFD(s.Args[0])
}

// IntArg returns argument i as an integer (the count of read and write).
func (s *Syscall) IntArg(i int) (int64, bool) {
	if i >= len(s.Args) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s.Args[i]), 10, 64)
	return v, err == nil
}

// Event is a signal or the end of a task.
type Event struct {
	PID  int
	Time Timestamp
	Kind Kind
	// Signal names the signal delivered (Signal) or that killed (Killed).
	Signal string
	Exit   int
	Line   int
}

// Trace is a whole parsed trace.
type Trace struct {
	Calls  []Syscall
	Events []Event
	// Lines counts every line read; Malformed lists the numbers of lines
	// in no strace form (strace's own messages, a cut last line).
	Lines     int
	Malformed []int
	// Orphans counts resumed lines whose entry was not in the trace.
	Orphans int
}

// maxLineLen bounds one line; strace -s 32 never comes near it.
const maxLineLen = 1 << 20

// Parse parses a whole trace. It never fails: lines in no strace form are
// counted as malformed and skipped, so that a trace cut by a byte bound or
// mixed with other output still yields what it holds.
func Parse(b []byte) *Trace { return ParseText(string(b)) }

// ParseText is Parse on a trace held in a string. The calls' names,
// arguments and errnos are substrings of text, not copies (a trace of a
// busy writer holds hundreds of thousands of lines, and a string per
// line cost as many allocations): whatever outlives the calls should be
// cloned from them, or it keeps all of text alive. An event's signal name
// is cloned here, as the trace keeps its events.
func ParseText(text string) *Trace {
	// Nearly every line is a call: one allocation for them all instead
	// of a slice that doubles (and copies) its way up.
	t := &Trace{Calls: make([]Syscall, 0, strings.Count(text, "\n")+1)}
	pending := map[int]int{} // pid -> index in t.Calls of an unfinished call
	var args argArena
	n := 0
	for len(text) > 0 {
		n++
		var raw string
		raw, text, _ = strings.Cut(text, "\n")
		t.Lines++
		if len(strings.TrimSpace(raw)) == 0 {
			continue
		}
		if len(raw) > maxLineLen {
			t.Malformed = append(t.Malformed, n)
			continue
		}
		l, err := ParseLine(raw)
		if err != nil {
			t.Malformed = append(t.Malformed, n)
			continue
		}
		switch l.Kind {
		case Call:
			t.Calls = append(t.Calls, args.syscall(l, n))
		case Unfinished, Detached:
			sc := args.syscall(l, n)
			sc.Incomplete = true
			t.Calls = append(t.Calls, sc)
			if l.Kind == Unfinished {
				pending[l.PID] = len(t.Calls) - 1
			}
		case Resumed:
			i, ok := pending[l.PID]
			if !ok || t.Calls[i].Name != l.Name {
				// Written to stderr, strace prefixes lines with [pid N]
				// only while more than one task is traced, so an entry
				// and its resumption can carry different prefixes (one
				// of them none). When exactly one pending entry has the
				// name, it is this one.
				if j, found := onlyPending(t, pending, l.Name); found {
					for p, k := range pending {
						if k == j {
							delete(pending, p)
						}
					}
					i, ok = j, true
					if l.PID != 0 {
						t.Calls[i].PID = l.PID
					}
					pending[l.PID] = i
				}
			}
			if ok && t.Calls[i].Name == l.Name {
				delete(pending, l.PID)
				sc := &t.Calls[i]
				entryArgs := joinArgs(argText(sc.Args), l.Args)
				sc.Args = SplitArgs(entryArgs)
				sc.End = l.Time
				sc.Dur = l.Dur
				sc.Errno = l.Errno
				sc.Ret, sc.RetKnown = parseRet(l.Ret)
				sc.Incomplete = false
				continue
			}
			t.Orphans++
			sc := args.syscall(l, n)
			sc.Incomplete = true
			t.Calls = append(t.Calls, sc)
		default:
			t.Events = append(t.Events, Event{PID: l.PID, Time: l.Time, Kind: l.Kind, Signal: strings.Clone(l.Signal), Exit: l.Exit, Line: n})
		}
	}
	return t
}

// onlyPending returns the single pending entry named name, if there is
// exactly one.
func onlyPending(t *Trace, pending map[int]int, name string) (int, bool) {
	found, n := -1, 0
	for _, i := range pending {
		if t.Calls[i].Name == name {
			found, n = i, n+1
		}
	}
	return found, n == 1
}

// argArena holds the split arguments of many calls in shared blocks: one
// allocation per few thousand calls instead of one per call.
type argArena []string

// argBlock is how many arguments one block of the arena holds.
const argBlock = 4096

// syscall makes the call of line l, numbered n, its arguments split into
// the arena.
func (a *argArena) syscall(l Line, n int) Syscall {
	sc := Syscall{PID: l.PID, Name: l.Name, Start: l.Time, End: l.Time, Args: a.split(l.Args), Errno: l.Errno, Dur: l.Dur, Line: n}
	if l.Kind == Call || l.Kind == Resumed {
		sc.Ret, sc.RetKnown = parseRet(l.Ret)
	}
	return sc
}

// split is SplitArgs into the arena. The slice it returns has no room
// past its length, so an append to it copies rather than overwriting the
// next call's arguments.
func (a *argArena) split(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	most := strings.Count(s, ",") + 1
	if cap(*a)-len(*a) < most {
		*a = make([]string, 0, max(argBlock, most))
	}
	start := len(*a)
	*a = splitArgs(*a, s)
	return (*a)[start:len(*a):len(*a)]
}

// argText rebuilds the raw text of split arguments.
func argText(args []string) string { return strings.Join(args, ", ") }

// joinArgs joins the entry part and the resumed part of an argument list;
// strace ends the entry part with ", " or nothing, and starts the rest
// with the next argument.
func joinArgs(a, b string) string {
	a = strings.TrimRight(a, " ")
	b = strings.TrimLeft(b, " ")
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasSuffix(a, ","):
		return a + " " + b
	}
	// The entry part ended inside an argument (rare: a struct printed in
	// two halves); keep the text as it was.
	return a + b
}

// parseRet reads the numeric part of a return value ("3</x>" is 3, "?"
// is unknown, hex is allowed).
func parseRet(s string) (int64, bool) {
	if s == "" || s == "?" {
		return 0, false
	}
	if i := strings.IndexByte(s, '<'); i > 0 {
		s = s[:i]
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		u, err2 := strconv.ParseUint(s, 0, 64)
		if err2 != nil {
			return 0, false
		}
		return int64(u), true
	}
	return v, true
}

// SplitArgs splits an argument list at its top-level commas.
func SplitArgs(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	// One allocation: at most one argument more than commas.
	return splitArgs(make([]string, 0, strings.Count(s, ",")+1), s)
}

// splitArgs appends the top-level arguments of the trimmed, non-empty
// list s to out.
func splitArgs(out []string, s string) []string {
	depth := 0
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			if j := skipString(s, i); j >= 0 {
				i = j
			} else {
				i = len(s) - 1
			}
		case '(', '[', '{', '<':
			depth++
		case ')', ']', '}', '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// FD is a descriptor argument as -y or -yy prints it: "3</var/log/a.log>",
// "4<pipe:[35092]>", "AT_FDCWD</srv>", "1</dev/null<char 1:3>>".
type FD struct {
	Num  int // AT_FDCWD is -100
	Path string
	// Deleted is true for a file unlinked while open ("(deleted)").
	Deleted bool
}

// Kind classifies what the descriptor refers to.
func (f FD) Kind() string {
	switch {
	case strings.HasPrefix(f.Path, "pipe:["):
		return "pipe"
	case strings.HasPrefix(f.Path, "anon_inode:"):
		return "anon"
	case strings.HasPrefix(f.Path, "socket:["), strings.Contains(f.Path, ":[") && !strings.HasPrefix(f.Path, "/"):
		return "socket"
	case strings.HasPrefix(f.Path, "/dev/pts/"), strings.HasPrefix(f.Path, "/dev/tty"), f.Path == "/dev/console":
		return "tty"
	case strings.HasPrefix(f.Path, "/dev/"):
		return "device"
	case strings.HasPrefix(f.Path, "/"):
		return "file"
	}
	return "unknown"
}

// ParseFD parses a decorated descriptor argument.
func ParseFD(arg string) (FD, bool) {
	open := strings.IndexByte(arg, '<')
	if open <= 0 {
		return FD{}, false
	}
	var f FD
	num := arg[:open]
	if num == "AT_FDCWD" {
		f.Num = -100
	} else {
		n, err := strconv.Atoi(num)
		if err != nil {
			return FD{}, false
		}
		f.Num = n
	}
	depth := 0
	end := -1
	for i := open; i < len(arg); i++ {
		switch arg[i] {
		case '<':
			depth++
		case '>':
			if arg[i-1] == '-' {
				continue // the arrow of a -yy socket "a->b"
			}
			depth--
			if depth == 0 {
				end = i
			}
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return FD{}, false
	}
	path := arg[open+1 : end]
	// -yy appends device details inside: "/dev/null<char 1:3>".
	if i := strings.IndexByte(path, '<'); i > 0 && strings.HasPrefix(path, "/") {
		path = path[:i]
	}
	f.Path = Unescape(path)
	f.Deleted = strings.HasSuffix(arg[end+1:], "(deleted)")
	return f, true
}

// Unescape decodes strace's C-style escapes: \n \t \r \v \f \" \\,
// octal \NNN and hex \xHH.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteString(`\x`)
		default:
			if e >= '0' && e <= '7' {
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 16)
				b.WriteByte(byte(v))
				i = j - 1
				continue
			}
			b.WriteByte(e) // \" and \\ and anything else
		}
	}
	return b.String()
}

// Skipped says which lines of the trace the parser left out: lines in no
// strace form, and resumed calls whose start was not captured. It is ""
// when none were (or t is nil), so that a report can say what its figures
// do not include.
func (t *Trace) Skipped() string {
	if t == nil {
		return ""
	}
	var parts []string
	if n := len(t.Malformed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d lines are in no strace form (first: line %d)", n, t.Lines, t.Malformed[0]))
	}
	if t.Orphans > 0 {
		parts = append(parts, fmt.Sprintf("%d resumed calls have no start in the trace", t.Orphans))
	}
	return strings.Join(parts, ", ")
}
