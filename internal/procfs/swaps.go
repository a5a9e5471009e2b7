package procfs

import (
	"strconv"
	"strings"
)

// Swap is one line of /proc/swaps (mm/swapfile.c swap_show): a swap
// area, its type ("partition" or "file"), size and use in KiB, and
// priority.
type Swap struct {
	Filename       string
	Type           string
	SizeKB, UsedKB uint64
	Priority       int64
}

// ParseSwaps parses /proc/swaps. The header line and malformed lines are
// skipped. The kernel escapes spaces, tabs, newlines and backslashes in
// the file name as octal (\040), as in mountinfo.
func ParseSwaps(b []byte) []Swap {
	var out []Swap
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] == "Filename" {
			continue
		}
		size, err1 := strconv.ParseUint(f[2], 10, 64)
		used, err2 := strconv.ParseUint(f[3], 10, 64)
		prio, err3 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out = append(out, Swap{Filename: UnescapeOctal(f[0]), Type: f[1], SizeKB: size, UsedKB: used, Priority: prio})
	}
	return out
}
