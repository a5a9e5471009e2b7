// Package prose holds the small pieces a report's sentences are built
// of: lists joined in English, byte counts and shares for people.
package prose

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/internal/units"
)

// JoinAnd joins parts as English does: "a", "a and b", "a, b and c".
func JoinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// JoinInts joins numbers with commas: "1, 2, 3".
func JoinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// Sentence starts a sentence with s: its first letter in upper case,
// unless its first word is a name (a device, a file, a command): names
// are case-sensitive and "Loop0" names nothing. A word with a digit or
// one of "/._-:" in it is taken for a name; a sentence that begins with a
// plain lower-case name is rephrased by its writer ("Device sda ...").
func Sentence(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	word, _, _ := strings.Cut(s, " ")
	if strings.ContainsAny(word, "0123456789/._-:") {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// Pct is part as a percentage of whole, 0 when whole is not positive.
func Pct(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return part / whole * 100
}

// Bytes formats a byte count for people ("1.5 MiB").
func Bytes(b float64) string { return units.FormatBytes(int64(b)) }

// Plural is "1 file", "3 files", "2 directories".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, what[:len(what)-1])
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Cgroup names a cgroup in prose with its hierarchy, as /proc/PID/cgroup
// does: "v1 blkio cgroup /x" in a v1 hierarchy (controllers: those
// mounted on it), "v2 cgroup /x" in the unified one (controllers ""). A
// bare path does not say which controller's cgroup it is, and on a node
// with both a process is in one of each.
func Cgroup(controllers, path string) string {
	if controllers == "" {
		return "v2 cgroup " + path
	}
	return "v1 " + controllers + " cgroup " + path
}
