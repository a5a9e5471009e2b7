package cli

import (
	"bytes"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) || IsTerminal(&bytes.Buffer{}) {
		t.Error("a pipe or buffer is taken for a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is taken for a terminal")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		if !IsTerminal(tty) {
			t.Error("/dev/tty is not taken for a terminal")
		}
		tty.Close()
	} else {
		t.Logf("no controlling terminal (%v): the positive case is not checked", err)
	}
}

func TestVersion(t *testing.T) {
	if got := Version("v1.2.3"); !strings.HasPrefix(got, "v1.2.3") {
		t.Errorf("stamped: %q", got)
	}
	// A test binary has no module version ("(devel)" or empty) and go
	// test records no commit.
	if got := Version(""); got != "dev" {
		t.Errorf("unstamped test binary: %q, want dev", got)
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	const sha = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-compiler", Value: "gc"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-11-29T06:10:02Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	info := func(mainVersion string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/iorca/iorca", Version: mainVersion}, Settings: settings}
	}
	for _, tc := range []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want          string
	}{
		{"no build info", "", nil, "dev"},
		{"stamped, no build info", "v1.2.3", nil, "v1.2.3"},
		{"go install @version", "", info("v0.3.0", nil), "v0.3.0"},
		{"release from a clean checkout", "", info("v0.3.0", vcs(sha, "false")), "v0.3.0 (rev 1a2b3c4d5e6f)"},
		{"stamped wins over the module version", "v1.2.3", info("v0.3.0", vcs(sha, "false")), "v1.2.3 (rev 1a2b3c4d5e6f)"},
		{"devel, dirty tree", "", info("(devel)", vcs(sha, "true")), "dev (rev 1a2b3c4d5e6f+dirty)"},
		{"empty main version", "", info("", vcs(sha, "false")), "dev (rev 1a2b3c4d5e6f)"},
		{"devel, no VCS", "", info("(devel)", nil), "dev"},
		{"pseudo-version", "", info("v0.0.0-20261129061002-1a2b3c4d5e6f+dirty", vcs(sha, "true")), "v0.0.0-20261129061002-1a2b3c4d5e6f+dirty (rev 1a2b3c4d5e6f+dirty)"},
		{"short revision kept whole", "", info("(devel)", vcs("1a2b3c", "false")), "dev (rev 1a2b3c)"},
		{"modified without a revision", "", info("(devel)", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}), "dev"},
	} {
		if got := version(tc.stamped, tc.bi); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Booleans print as GNU tools print them, and every description starts
// in the same column.
func TestFlagUsages(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.BoolP("quiet", "q", false, "no progress")
	fs.String("format", "md", "output `FORMAT`")
	fs.Duration("wait", 0, "give up after this long")
	fs.Int("top", 3, "targets")
	out := FlagUsages(fs)
	if strings.Contains(out, "[=true|false]") || !strings.Contains(out, "-q, --quiet ") || !strings.Contains(out, "--format FORMAT") || !strings.Contains(out, `(default "md")`) || !strings.Contains(out, "(default 3)") || strings.Contains(out, "default 0s") {
		t.Errorf("usages:\n%s", out)
	}
	col := -1
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		lead := len(l) - len(strings.TrimLeft(l, " "))
		i := lead + strings.Index(l[lead:], "   ") + 3
		for l[i] == ' ' {
			i++
		}
		if col >= 0 && i != col {
			t.Errorf("descriptions do not start in one column:\n%s", out)
		}
		col = i
	}
}

// A release built where Go records no commit (a git worktree, a source
// archive) is stamped with Revision; a commit Go did record wins.
func TestVersionStampedRevision(t *testing.T) {
	defer func(r string) { Revision = r }(Revision)
	Revision = "0cd5106e9e62"
	if got := version("v0.1.0", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); got != "v0.1.0 (rev 0cd5106e9e62)" {
		t.Errorf("stamped revision: %q", got)
	}
	if got := version("v0.1.0", nil); got != "v0.1.0 (rev 0cd5106e9e62)" {
		t.Errorf("stamped revision, no build info: %q", got)
	}
	bi := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b"}}}
	if got := version("v0.1.0", bi); got != "v0.1.0 (rev 1a2b3c4d5e6f)" {
		t.Errorf("recorded commit: %q", got)
	}
}
