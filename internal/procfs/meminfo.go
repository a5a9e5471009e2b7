package procfs

import (
	"bytes"
	"strconv"
)

// Meminfo is /proc/meminfo as a map from key to value in kB (keys without
// a unit, such as HugePages_Total, are counts).
type Meminfo map[string]uint64

// ParseMeminfo parses /proc/meminfo.
func ParseMeminfo(b []byte) (Meminfo, error) {
	m := make(Meminfo, bytes.Count(b, []byte{'\n'})+1)
	var f [][]byte
	err := eachKeyValue("meminfo", b, func(key, val []byte, line int) error {
		f = fieldsInto(f[:0], val)
		if len(f) == 0 {
			return lineError("meminfo", line, "%s has no value", key)
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return lineError("meminfo", line, "%s: %v", key, err)
		}
		m[string(key)] = v
		return nil
	})
	return m, err
}

// Vmstat is /proc/vmstat as a map from counter name to value; counters are
// pages unless named otherwise (pgpgin and pgpgout are KiB).
type Vmstat map[string]uint64

// ParseVmstat parses /proc/vmstat ("name value" lines).
func ParseVmstat(b []byte) (Vmstat, error) {
	// Sized for its lines up front: the map grew five times a file.
	m := make(Vmstat, bytes.Count(b, []byte{'\n'})+1)
	var f [][]byte // one slice for every line's fields
	err := eachLine(b, func(l []byte, n int) error {
		f = fieldsInto(f[:0], l)
		if len(f) != 2 {
			return lineError("vmstat", n, "want \"name value\", got %q", truncate(l))
		}
		v, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			// Some counters can be negative transiently (per-CPU drift).
			iv, err2 := strconv.ParseInt(string(f[1]), 10, 64)
			if err2 != nil {
				return lineError("vmstat", n, "%s: %v", f[0], err)
			}
			v = uint64(max(iv, 0))
		}
		m[string(f[0])] = v
		return nil
	})
	return m, err
}
