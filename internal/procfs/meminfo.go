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
	m := Meminfo{}
	err := eachKeyValue("meminfo", b, func(key, val []byte, line int) error {
		f := bytes.Fields(val)
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
	m := Vmstat{}
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
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
