package procfs

import (
	"strconv"
	"strings"
)

// ParseFlatKeyed parses a cgroup v2 flat-keyed file ("KEY VALUE" lines,
// Documentation/admin-guide/cgroup-v2.rst "Interface Files", as
// memory.events and memory.stat are). Lines that are not a key and an
// unsigned number are skipped.
func ParseFlatKeyed(b []byte) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		out[k] = n
	}
	return out
}
