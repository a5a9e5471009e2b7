// Package cli holds what both command-line programs, iorca-collect and
// iorca, need alike: their version string and whether a stream is a
// terminal (for progress lines and colour).
package cli

import (
	"io"
	"os"
	"runtime/debug"
)

// Version is the program's version: stamped, the value a release build
// sets with -ldflags "-X main.version=v1.2.3"; else the module version of
// a "go install ...@v1.2.3" build; else "dev".
func Version(stamped string) string {
	if stamped != "" {
		return stamped
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// IsTerminal reports whether w is a character device such as a terminal;
// a pipe, a file or a buffer is not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
