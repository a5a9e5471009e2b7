package blocktrace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// printer prints an event's fields as its print fmt does in trace_pipe.
// It interprets the print fmt of the format file: the format string, and
// each argument matched to one of the few expression shapes the block,
// writeback and jbd2 events use. An argument of another shape is an error
// at setup, and the capture then reads trace_pipe's text instead.
type printer struct {
	name  string
	parts []part
	// common fields of every record
	flags, preempt, pid field
}

// part is a literal, or a conversion with the argument it prints.
type part struct {
	lit  string
	verb string // "d", "u", "ld", "lu", "lld", "llu", "x", "lx", "s"; "" for a literal
	arg  arg
}

type argKind int

const (
	argField      argKind = iota // REC->f, (cast)REC->f
	argMajor                     // ((unsigned int) ((REC->dev) >> 20))
	argMinor                     // ((unsigned int) ((REC->dev) & ((1U << 20) - 1)))
	argDataLoc                   // __get_str(f)
	argConst                     // an integer literal
	argIOClass                   // __print_symbolic of ioprio's class
	argIOLevel                   // (((REC->ioprio) >> 3) & ((1 << 10) - 1))
	argIOHint                    // ((REC->ioprio) & ((1 << 3) - 1))
	argInodeFlags                // __print_flags(REC->state, "|", {I_..., "I_..."}...)
	argAge                       // (jiffies - REC->f) / HZ
	argSymbolic                  // __print_symbolic(REC->f, { N, "name" }...)
)

type arg struct {
	kind  argKind
	f     field
	n     int64
	names []string // argInodeFlags, in the print's order
	syms  map[uint64]string
}

// The argument shapes, as the kernel writes them in format files.
var (
	reField    = regexp.MustCompile(`^(?:\([a-z ]+\))?REC->(\w+)$`)
	reMajor    = regexp.MustCompile(`^\(\(unsigned int\) \(\(REC->(\w+)\) >> 20\)\)$`)
	reMinor    = regexp.MustCompile(`^\(\(unsigned int\) \(\(REC->(\w+)\) & \(\(1U << 20\) - 1\)\)\)$`)
	reDataLoc  = regexp.MustCompile(`^__get_str\((\w+)\)$`)
	reConst    = regexp.MustCompile(`^-?\d+$`)
	reIOClass  = regexp.MustCompile(`^__print_symbolic\(\(\(\(REC->(\w+)\) >> 13\) & \(8 - 1\)\), \{ IOPRIO_CLASS_NONE, "none" \}, \{ IOPRIO_CLASS_RT, "rt" \}, \{ IOPRIO_CLASS_BE, "be" \}, \{ IOPRIO_CLASS_IDLE, "idle" \}, \{ IOPRIO_CLASS_INVALID, "invalid"\}\)$`)
	reIOLevel  = regexp.MustCompile(`^\(\(\(REC->(\w+)\) >> 3\) & \(\(1 << 10\) - 1\)\)$`)
	reIOHint   = regexp.MustCompile(`^\(\(REC->(\w+)\) & \(\(1 << 3\) - 1\)\)$`)
	reFlags    = regexp.MustCompile(`^__print_flags\(REC->(\w+), "\|", (.*)\)$`)
	reFlagName = regexp.MustCompile(`\{(I_\w+), "(I_\w+)"\}`)
	reAge      = regexp.MustCompile(`^\(jiffies - REC->(\w+)\) / (\d+)$`)
	reSymbolic = regexp.MustCompile(`^__print_symbolic\(REC->(\w+), (.*)\)$`)
	reSymbol   = regexp.MustCompile(`\{ ?(-?\d+), "([^"]*)" ?\}`)
	reVerb     = regexp.MustCompile(`^%(s|d|u|x|ld|lu|lx|lld|llu)`)
)

// inodeState are the inode state bits by name (include/linux/fs.h) as of
// the kernels whose writeback_single_inode prints I_WILL_FREE,
// I_REFERENCED and I_LRU_ISOLATING (6.10 to 6.18). The values are not in
// the format file; the analyzer does not read state=, and a kernel whose
// bits moved prints wrong names here, not wrong requests.
var inodeState = map[string]uint64{
	"I_NEW": 1 << 0, "I_SYNC": 1 << 1, "I_LRU_ISOLATING": 1 << 2,
	"I_DIRTY_SYNC": 1 << 4, "I_DIRTY_DATASYNC": 1 << 5, "I_DIRTY_PAGES": 1 << 6,
	"I_WILL_FREE": 1 << 7, "I_FREEING": 1 << 8, "I_CLEAR": 1 << 9, "I_REFERENCED": 1 << 10,
	"I_LINKABLE": 1 << 11, "I_DIRTY_TIME": 1 << 12, "I_WB_SWITCH": 1 << 13, "I_OVL_INUSE": 1 << 14,
	"I_CREATING": 1 << 15, "I_DONTCACHE": 1 << 16, "I_SYNC_QUEUED": 1 << 17, "I_PINNING_NETFS_WB": 1 << 18,
}

// newPrinter compiles an event's format.
func newPrinter(f eventFormat) (*printer, error) {
	p := &printer{name: f.Name}
	var ok1, ok2, ok3 bool
	p.flags, ok1 = f.Fields["common_flags"]
	p.preempt, ok2 = f.Fields["common_preempt_count"]
	p.pid, ok3 = f.Fields["common_pid"]
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("event %s: no common_flags, common_preempt_count or common_pid", f.Name)
	}
	args := splitArgs(f.Args)
	s := f.Print
	lit := ""
	for len(s) > 0 {
		if s[0] != '%' {
			lit += s[:1]
			s = s[1:]
			continue
		}
		m := reVerb.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("event %s: conversion %.6q in its print fmt not known", f.Name, s)
		}
		if len(args) == 0 {
			return nil, fmt.Errorf("event %s: more conversions than arguments", f.Name)
		}
		a, err := compileArg(f, args[0])
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", f.Name, err)
		}
		if lit != "" {
			p.parts = append(p.parts, part{lit: lit})
			lit = ""
		}
		p.parts = append(p.parts, part{verb: m[1], arg: a})
		args, s = args[1:], s[len(m[0]):]
	}
	if lit != "" {
		p.parts = append(p.parts, part{lit: lit})
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("event %s: %d arguments left over", f.Name, len(args))
	}
	return p, nil
}

// splitArgs splits the print fmt's arguments at the commas outside
// parentheses, braces and strings.
func splitArgs(s string) []string {
	var out []string
	depth, start, inStr := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '(' || c == '{':
			depth++
		case c == ')' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// fieldShapes are the argument shapes of one field each.
var fieldShapes = []struct {
	re   *regexp.Regexp
	kind argKind
}{
	{reField, argField}, {reMajor, argMajor}, {reMinor, argMinor}, {reDataLoc, argDataLoc},
	{reIOClass, argIOClass}, {reIOLevel, argIOLevel}, {reIOHint, argIOHint},
}

func compileArg(f eventFormat, s string) (arg, error) {
	fieldOf := func(kind argKind, name string) (arg, error) {
		fd, ok := f.Fields[name]
		if !ok {
			return arg{}, fmt.Errorf("argument %q: no field %s", s, name)
		}
		return arg{kind: kind, f: fd}, nil
	}
	for _, sh := range fieldShapes {
		if m := sh.re.FindStringSubmatch(s); m != nil {
			a, err := fieldOf(sh.kind, m[1])
			if err == nil && sh.kind == argDataLoc && !a.f.DataLoc {
				err = fmt.Errorf("argument %q: %s is not a __data_loc field", s, m[1])
			}
			return a, err
		}
	}
	if reConst.MatchString(s) {
		n, _ := strconv.ParseInt(s, 10, 64)
		return arg{kind: argConst, n: n}, nil
	}
	if m := reFlags.FindStringSubmatch(s); m != nil {
		a, err := fieldOf(argInodeFlags, m[1])
		if err != nil {
			return a, err
		}
		for _, nm := range reFlagName.FindAllStringSubmatch(m[2], -1) {
			if _, ok := inodeState[nm[1]]; !ok {
				return a, fmt.Errorf("argument %q: inode flag %s not known", s[:min(len(s), 40)], nm[1])
			}
			a.names = append(a.names, nm[1])
		}
		return a, nil
	}
	if m := reSymbolic.FindStringSubmatch(s); m != nil {
		// The writeback work events' reason= (WB_REASON_*): the values are
		// in the format file, unlike inode flags'.
		a, err := fieldOf(argSymbolic, m[1])
		a.syms = map[uint64]string{}
		for _, sm := range reSymbol.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.ParseInt(sm[1], 10, 64)
			a.syms[uint64(n)] = sm[2]
		}
		if err == nil && len(a.syms) == 0 {
			err = fmt.Errorf("argument %.60q: no symbols", s)
		}
		return a, err
	}
	if m := reAge.FindStringSubmatch(s); m != nil {
		a, err := fieldOf(argAge, m[1])
		a.n, _ = strconv.ParseInt(m[2], 10, 64)
		if a.n <= 0 {
			err = fmt.Errorf("argument %q: HZ %d", s, a.n)
		}
		return a, err
	}
	return arg{}, fmt.Errorf("print fmt argument %.60q not known", s)
}

// uintOf reads a field as the kernel stores it (little-endian), sign
// extended when the field is signed.
func uintOf(fd field, rec []byte) uint64 {
	if fd.Offset+fd.Size > len(rec) {
		return 0
	}
	b := rec[fd.Offset : fd.Offset+fd.Size]
	var v uint64
	switch fd.Size {
	case 1:
		v = uint64(b[0])
		if fd.Signed {
			v = uint64(int64(int8(b[0])))
		}
	case 2:
		v = uint64(binary.LittleEndian.Uint16(b))
		if fd.Signed {
			v = uint64(int64(int16(v)))
		}
	case 4:
		v = uint64(binary.LittleEndian.Uint32(b))
		if fd.Signed {
			v = uint64(int64(int32(v)))
		}
	case 8:
		v = binary.LittleEndian.Uint64(b)
	}
	return v
}

// strOf reads a char array field, or a __data_loc string, up to its NUL.
func strOf(fd field, rec []byte) []byte {
	if fd.Offset+fd.Size > len(rec) {
		return nil
	}
	b := rec[fd.Offset : fd.Offset+fd.Size]
	if fd.DataLoc {
		loc := binary.LittleEndian.Uint32(b)
		off, n := int(loc&0xffff), int(loc>>16)
		if off+n > len(rec) {
			return nil
		}
		b = rec[off : off+n]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b
}

var ioClasses = [8]string{0: "none", 1: "rt", 2: "be", 3: "idle", 7: "invalid"}

// print appends the event's fields; jiffies is the jiffies count at the
// event (for age=).
func (p *printer) print(dst, rec []byte, ts uint64, j jiffiesRef) []byte {
	for _, pt := range p.parts {
		if pt.verb == "" {
			dst = append(dst, pt.lit...)
			continue
		}
		a := pt.arg
		var v uint64
		switch a.kind {
		case argField:
			if pt.verb == "s" {
				dst = append(dst, strOf(a.f, rec)...)
				continue
			}
			v = uintOf(a.f, rec)
		case argDataLoc:
			dst = append(dst, strOf(a.f, rec)...)
			continue
		case argMajor:
			v = uint64(uint32(uintOf(a.f, rec)) >> 20)
		case argMinor:
			v = uintOf(a.f, rec) & (1<<20 - 1)
		case argConst:
			v = uint64(a.n)
		case argIOClass:
			c := (uintOf(a.f, rec) >> 13) & 7
			if s := ioClasses[c]; s != "" {
				dst = append(dst, s...)
			} else {
				dst = append(dst, "0x"...)
				dst = strconv.AppendUint(dst, c, 16)
			}
			continue
		case argIOLevel:
			v = (uintOf(a.f, rec) >> 3) & (1<<10 - 1)
		case argIOHint:
			v = uintOf(a.f, rec) & 7
		case argInodeFlags:
			dst = appendFlags(dst, uintOf(a.f, rec), a.names)
			continue
		case argSymbolic:
			// trace_print_symbols_seq: the name, else the value in hex.
			v = uintOf(a.f, rec)
			if a.f.Size < 8 {
				v &= 1<<(8*a.f.Size) - 1
			}
			if name, ok := a.syms[v]; ok {
				dst = append(dst, name...)
			} else {
				dst = append(dst, "0x"...)
				dst = strconv.AppendUint(dst, v, 16)
			}
			continue
		case argAge:
			if j.ok {
				v = (j.at(ts, a.n) - uintOf(a.f, rec)) / uint64(a.n)
			}
		}
		dst = appendInt(dst, v, pt.verb)
	}
	return dst
}

// appendInt prints v as the C conversion would, with its width's cast.
func appendInt(dst []byte, v uint64, verb string) []byte {
	switch verb {
	case "d":
		return strconv.AppendInt(dst, int64(int32(v)), 10)
	case "u":
		return strconv.AppendUint(dst, uint64(uint32(v)), 10)
	case "x":
		return strconv.AppendUint(dst, uint64(uint32(v)), 16)
	case "ld", "lld":
		return strconv.AppendInt(dst, int64(v), 10)
	case "lx":
		return strconv.AppendUint(dst, v, 16)
	default: // lu, llu, and %s of a number (not in any format known)
		return strconv.AppendUint(dst, v, 10)
	}
}

// appendFlags prints flags as trace_print_flags_seq does: the names whose
// bits are set, in the print's order, joined by "|", then what is left in
// hex.
func appendFlags(dst []byte, v uint64, names []string) []byte {
	first := true
	for _, n := range names {
		m := inodeState[n]
		if v == 0 {
			break
		}
		if v&m != m {
			continue
		}
		v &^= m
		if !first {
			dst = append(dst, '|')
		}
		first = false
		dst = append(dst, n...)
	}
	if v != 0 {
		if !first {
			dst = append(dst, '|')
		}
		dst = append(dst, "0x"...)
		dst = strconv.AppendUint(dst, v, 16)
	}
	return dst
}
