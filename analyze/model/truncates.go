package model

import (
	"strconv"
	"strings"

	"github.com/iorca/iorca/analyze/strace"
)

// truncatedFiles counts, by path, the calls in a trace that cut a file to
// nothing: ftruncate(fd, 0) and truncate(path, 0) that succeeded, and an
// open with O_TRUNC that succeeded (a rotation by copy and truncate ends
// with one of them on the live log).
func truncatedFiles(t *strace.Trace) map[string]int {
	var out map[string]int
	add := func(path string) {
		if out == nil {
			out = map[string]int{}
		}
		out[path]++
	}
	for i := range t.Calls {
		c := &t.Calls[i]
		if c.Errno != "" || !c.RetKnown || c.Ret < 0 {
			continue
		}
		switch c.Name {
		case "ftruncate":
			if fd, ok := c.FD(); ok && fd.Path != "" && zeroArg(c, 1) {
				add(fd.Path)
			}
		case "truncate":
			if p, ok := quotedArg(c, 0); ok && zeroArg(c, 1) {
				add(p)
			}
		case "open", "openat":
			at := 0
			if c.Name == "openat" {
				at = 1
			}
			if p, ok := quotedArg(c, at); ok && len(c.Args) > at+1 && strings.Contains(c.Args[at+1], "O_TRUNC") && writableOpen(c.Args[at+1]) {
				add(p)
			}
		}
	}
	return out
}

// zeroArg reports an argument that is the integer 0.
func zeroArg(c *strace.Syscall, i int) bool {
	n, ok := c.IntArg(i)
	return ok && n == 0
}

// quotedArg is a path argument without its quotes; false when it is not a
// quoted string (a path strace did not print).
func quotedArg(c *strace.Syscall, i int) (string, bool) {
	if i >= len(c.Args) {
		return "", false
	}
	p, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(c.Args[i]), "..."))
	return p, err == nil && strings.HasPrefix(p, "/")
}

// writableOpen reports open flags that allow writing: O_TRUNC with
// O_RDONLY truncates nothing the caller may rely on.
func writableOpen(flags string) bool {
	return strings.Contains(flags, "O_WRONLY") || strings.Contains(flags, "O_RDWR")
}
