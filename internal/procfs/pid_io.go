package procfs

import (
	"bytes"
	"strconv"
)

// PIDIO is /proc/PID/io (Documentation/filesystems/proc.rst, "IO
// statistics"): the I/O accounting of a whole thread group, including
// threads that already exited.
//
// RChar and WChar count bytes passed to read- and write-like syscalls,
// whatever the target (pipes and ttys too); ReadBytes is charged when a bio
// is submitted, WriteBytes when a page is dirtied (or a direct write is
// issued); CancelledWriteBytes is dirty page cache thrown away by truncate.
// The kernel prints unsigned values; they are kept as int64 so that the
// arithmetic of deltas stays simple (2^63 bytes is never reached).
type PIDIO struct {
	RChar, WChar, SyscR, SyscW int64
	ReadBytes, WriteBytes      int64
	CancelledWriteBytes        int64
}

// ParsePIDIO parses the text of /proc/PID/io. Unknown keys are ignored; a
// known key with a value that is not a number is an error.
func ParsePIDIO(b []byte) (PIDIO, error) {
	var io PIDIO
	seen := 0
	err := eachKeyValue("pid io", b, func(key, val []byte, line int) error {
		var dst *int64
		switch string(key) {
		case "rchar":
			dst = &io.RChar
		case "wchar":
			dst = &io.WChar
		case "syscr":
			dst = &io.SyscR
		case "syscw":
			dst = &io.SyscW
		case "read_bytes":
			dst = &io.ReadBytes
		case "write_bytes":
			dst = &io.WriteBytes
		case "cancelled_write_bytes":
			dst = &io.CancelledWriteBytes
		default:
			return nil
		}
		v, err := strconv.ParseInt(string(val), 10, 64)
		if err != nil {
			return lineError("pid io", line, "%s: %v", key, err)
		}
		*dst = v
		seen++
		return nil
	})
	if err == nil && seen == 0 {
		err = lineError("pid io", 1, "no known key")
	}
	return io, err
}

// eachKeyValue calls fn for every "key: value" line of b, with the value's
// surrounding blanks removed.
func eachKeyValue(file string, b []byte, fn func(key, val []byte, line int) error) error {
	return eachLine(b, func(l []byte, n int) error {
		key, val, ok := bytes.Cut(l, []byte{':'})
		if !ok {
			return lineError(file, n, "no ':' in %q", truncate(l))
		}
		return fn(bytes.TrimSpace(key), bytes.TrimSpace(val), n)
	})
}

// truncate shortens b for an error message.
func truncate(b []byte) []byte {
	if len(b) > 60 {
		return append(b[:60:60], "..."...)
	}
	return b
}
