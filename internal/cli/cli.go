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
// a "go install ...@v1.2.3" build (or the pseudo-version go build derives
// from the checkout); else "dev". The commit it was built from follows
// when the build recorded one, so that two "dev" builds can be told apart:
// "v1.2.3 (rev 1a2b3c4d5e6f)", "dev (rev 1a2b3c4d5e6f+dirty)".
func Version(stamped string) string {
	bi, _ := debug.ReadBuildInfo()
	return version(stamped, bi)
}

// version is Version over the build info bi, which may be nil (a binary
// built without module support).
func version(stamped string, bi *debug.BuildInfo) string {
	v := stamped
	if v == "" && bi != nil && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	if rev := revision(bi); rev != "" {
		v += " (rev " + rev + ")"
	}
	return v
}

// Revision is the commit a build says it was made from when Go's build
// info cannot (a git worktree, a source archive): scripts/release.sh sets
// it with -ldflags "-X github.com/iorca/iorca/internal/cli.Revision=...".
// The build info's commit, when there is one, wins.
var Revision = ""

// revision is the VCS commit bi was built from, cut to 12 characters as
// Go's pseudo-versions cut it, with "+dirty" when the work tree had
// uncommitted changes; Revision, or "" when the build recorded no commit
// (go test, -buildvcs=false, no VCS).
func revision(bi *debug.BuildInfo) string {
	if bi == nil {
		return Revision
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return Revision
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev + dirty
}

// IsTerminal reports whether w is a character device such as a terminal;
// a pipe, a file or a buffer is not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
