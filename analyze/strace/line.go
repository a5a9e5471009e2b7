package strace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the form of one trace line.
type Kind uint8

// Line forms (REFERENCE-IO.md 7.2).
const (
	// Call is a complete syscall: NAME(ARGS) = RET [<DUR>].
	Call Kind = iota
	// Unfinished is the entry half of a syscall interrupted in the
	// output by another task: NAME(PARTIAL <unfinished ...>.
	Unfinished
	// Resumed is the exit half: <... NAME resumed>REST) = RET.
	Resumed
	// Detached is a syscall cut short when strace detached:
	// NAME(PARTIAL <detached ...>.
	Detached
	// Signal is --- SIGNAME {siginfo} --- (or the old "(desc) @ 0 (0)").
	Signal
	// Exited is +++ exited with N +++.
	Exited
	// Killed is +++ killed by SIGNAME [(core dumped)] +++.
	Killed
)

func (k Kind) String() string {
	return [...]string{"call", "unfinished", "resumed", "detached", "signal", "exited", "killed"}[k]
}

// Line is one parsed line of a trace.
type Line struct {
	// PID is the task id of the prefix ("123 " or "[pid 123] "); 0 when
	// the line has none (a single task traced without -f).
	PID  int
	Time Timestamp
	Kind Kind
	// Name is the syscall name (Call, Unfinished, Resumed, Detached).
	Name string
	// Args is the raw argument text: all of it for Call, the part before
	// the marker for Unfinished, the remainder for Resumed.
	Args string
	// Ret is the raw return text without errno ("3</x.log>", "-1", "?").
	Ret string
	// Errno is the error name after a failed return ("ENOENT").
	Errno string
	// Dur is the -T time spent in the syscall.
	Dur    Duration
	Signal string
	Exit   int
}

// Timestamp is a -tt time of day or a -ttt epoch time, in microseconds.
type Timestamp struct {
	Micros int64
	Epoch  bool
	Valid  bool
}

// Duration is the -T time in microseconds; Valid is false without -T.
type Duration struct {
	Micros int64
	Valid  bool
}

// ErrNotStrace is returned for a line that is not in any strace form.
var ErrNotStrace = errors.New("not a strace line")

// ParseLine parses one line of strace output.
func ParseLine(s string) (Line, error) {
	var l Line
	// By hand: TrimRight with a cutset of two bytes builds a set per
	// call, a tenth of the parser's time.
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	s, l.PID = cutPID(s)
	s, l.Time = cutTime(s)
	switch {
	case strings.HasPrefix(s, "--- "):
		l.Kind = Signal
		name := strings.TrimPrefix(s, "--- ")
		if i := strings.IndexAny(name, " {("); i >= 0 {
			name = name[:i]
		}
		l.Signal = name
		if !strings.HasPrefix(l.Signal, "SIG") {
			return Line{}, fmt.Errorf("%w: signal line %q", ErrNotStrace, s)
		}
		return l, nil
	case strings.HasPrefix(s, "+++ exited with "):
		l.Kind = Exited
		v := strings.TrimSuffix(strings.TrimPrefix(s, "+++ exited with "), " +++")
		n, err := strconv.Atoi(v)
		if err != nil {
			return Line{}, fmt.Errorf("%w: exit line %q", ErrNotStrace, s)
		}
		l.Exit = n
		return l, nil
	case strings.HasPrefix(s, "+++ killed by "):
		l.Kind = Killed
		v := strings.TrimPrefix(s, "+++ killed by ")
		if i := strings.IndexByte(v, ' '); i >= 0 {
			v = v[:i]
		}
		l.Signal = v
		return l, nil
	case strings.HasPrefix(s, "<... "):
		rest := strings.TrimPrefix(s, "<... ")
		name, after, ok := strings.Cut(rest, " resumed>")
		if !ok || !validName(name) {
			return Line{}, fmt.Errorf("%w: resumed line %q", ErrNotStrace, s)
		}
		l.Kind, l.Name = Resumed, name
		after = strings.TrimPrefix(after, " ")
		end, ok := argsEnd(after)
		if !ok {
			return Line{}, fmt.Errorf("%w: no closing parenthesis in %q", ErrNotStrace, s)
		}
		l.Args = after[:end]
		return l, parseReturn(after[end+1:], &l)
	}
	open := strings.IndexByte(s, '(')
	if open <= 0 || !validName(s[:open]) {
		return Line{}, fmt.Errorf("%w: %q", ErrNotStrace, truncate(s))
	}
	l.Name = s[:open]
	body := s[open+1:]
	for _, m := range []struct {
		marker string
		kind   Kind
	}{{"<unfinished ...>", Unfinished}, {"<detached ...>", Detached}} {
		if strings.HasSuffix(body, m.marker) {
			l.Kind = m.kind
			l.Args = strings.TrimRight(strings.TrimSuffix(body, m.marker), " ")
			return l, nil
		}
	}
	end, ok := argsEnd(body)
	if !ok {
		return Line{}, fmt.Errorf("%w: no closing parenthesis in %q", ErrNotStrace, truncate(s))
	}
	l.Kind = Call
	l.Args = body[:end]
	return l, parseReturn(body[end+1:], &l)
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// cutPID removes a "123  " (-o file) or "[pid  123] " (stderr) prefix.
func cutPID(s string) (string, int) {
	if strings.HasPrefix(s, "[pid ") {
		end := strings.IndexByte(s, ']')
		if end > 0 {
			if pid, err := strconv.Atoi(strings.TrimSpace(s[5:end])); err == nil {
				return strings.TrimPrefix(s[end+1:], " "), pid
			}
		}
		return s, 0
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	// A prefix is digits then a space; a -ttt timestamp is digits then '.'.
	if i == 0 || i >= len(s) || s[i] != ' ' {
		return s, 0
	}
	pid, err := strconv.Atoi(s[:i])
	if err != nil {
		return s, 0
	}
	return strings.TrimLeft(s[i:], " "), pid
}

// cutTime removes a -tt "HH:MM:SS.uuuuuu" or -ttt "SSSSSSSSSS.uuuuuu"
// timestamp and the space after it.
func cutTime(s string) (string, Timestamp) {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return s, Timestamp{}
	}
	tok := s[:sp]
	whole, frac, ok := strings.Cut(tok, ".")
	if !ok || len(frac) == 0 || len(frac) > 9 || !allDigits(frac) {
		return s, Timestamp{}
	}
	us := fracMicros(frac)
	if strings.Count(whole, ":") == 2 {
		// HH:MM:SS, read in place (a Split would allocate on every line).
		hs, rest, _ := strings.Cut(whole, ":")
		ms, ss, _ := strings.Cut(rest, ":")
		h, e1 := strconv.Atoi(hs)
		m, e2 := strconv.Atoi(ms)
		sec, e3 := strconv.Atoi(ss)
		if e1 != nil || e2 != nil || e3 != nil || h > 23 || m > 59 || sec > 60 {
			return s, Timestamp{}
		}
		return s[sp+1:], Timestamp{Micros: (int64(h)*3600+int64(m)*60+int64(sec))*1e6 + us, Valid: true}
	}
	if !allDigits(whole) {
		return s, Timestamp{}
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec > 1<<40 {
		return s, Timestamp{}
	}
	return s[sp+1:], Timestamp{Micros: sec*1e6 + us, Epoch: true, Valid: true}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// fracMicros turns the digits after the point into microseconds.
func fracMicros(frac string) int64 {
	for len(frac) < 6 {
		frac += "0"
	}
	v, _ := strconv.ParseInt(frac[:6], 10, 64)
	return v
}

// argsEnd returns the index of the ')' that closes an argument list,
// skipping quoted strings (with escapes) and nested (), [], {} and <>
// (fd decorations such as 3</a)b> may hold any of these).
func argsEnd(s string) (int, bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			j := skipString(s, i)
			if j < 0 {
				return 0, false
			}
			i = j
		case '(', '[', '{', '<':
			depth++
		case ']', '}', '>':
			if depth > 0 {
				depth--
			}
		case ')':
			if depth == 0 {
				return i, true
			}
			depth--
		}
	}
	return 0, false
}

// skipString returns the index of the quote closing the string that opens
// at s[i], or -1.
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// parseReturn reads " = RET [ERRNO (text)] [<DUR>]" after the arguments.
func parseReturn(s string, l *Line) error {
	s = strings.TrimLeft(s, " ")
	if !strings.HasPrefix(s, "=") {
		return fmt.Errorf("%w: no '=' after the arguments of %s", ErrNotStrace, l.Name)
	}
	s = strings.TrimLeft(s[1:], " ")
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		if d, ok := parseDur(s[i+1 : len(s)-1]); ok {
			l.Dur = d
			s = strings.TrimRight(s[:i], " ")
		}
	}
	// The value may carry an fd decoration with spaces: take it whole.
	end := retEnd(s)
	l.Ret = s[:end]
	rest := strings.TrimLeft(s[end:], " ")
	if rest != "" {
		tok := rest
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			tok = rest[:i]
		}
		if len(tok) > 1 && tok[0] == 'E' && strings.ToUpper(tok) == tok {
			l.Errno = tok
		}
	}
	if l.Ret == "" {
		return fmt.Errorf("%w: empty return value of %s", ErrNotStrace, l.Name)
	}
	return nil
}

func retEnd(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ' ':
			if depth <= 0 {
				return i
			}
		}
	}
	return len(s)
}

func parseDur(s string) (Duration, bool) {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || !allDigits(whole) || !allDigits(frac) {
		return Duration{}, false
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return Duration{}, false
	}
	return Duration{Micros: sec*1e6 + fracMicros(frac), Valid: true}, true
}
