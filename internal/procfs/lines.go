package procfs

import (
	"bytes"
	"strconv"
)

// fieldsInto is bytes.Fields(l) appended to dst, without allocating when
// dst has room: the parsers of a tick's files split thousands of lines,
// and a slice per line was most of their allocations. Each field has no
// room past its end, as Fields gives it. A line with a byte
// outside ASCII (where Fields also splits at Unicode spaces) is left to
// Fields.
func fieldsInto(dst [][]byte, l []byte) [][]byte {
	base, start := len(dst), -1
	for i, c := range l {
		switch {
		case c >= 0x80:
			return append(dst[:base], bytes.Fields(l)...)
		case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			if start >= 0 {
				dst = append(dst, l[start:i:i])
				start = -1
			}
		case start < 0:
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, l[start:len(l):len(l)])
	}
	return dst
}

// eachLine calls fn for every non-blank line of b with its 1-based number.
func eachLine(b []byte, fn func(line []byte, n int) error) error {
	n := 0
	for len(b) > 0 {
		n++
		var l []byte
		l, b, _ = bytes.Cut(b, []byte{'\n'})
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if err := fn(l, n); err != nil {
			return err
		}
	}
	return nil
}

// parseU64s appends every field, parsed as an unsigned decimal, to dst.
func parseU64s(dst []uint64, fields [][]byte) ([]uint64, error) {
	for _, f := range fields {
		v, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return nil, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}
