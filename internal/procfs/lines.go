package procfs

import (
	"bytes"
	"strconv"
)

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

// parseU64s parses every field as an unsigned decimal.
func parseU64s(fields [][]byte) ([]uint64, error) {
	out := make([]uint64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
