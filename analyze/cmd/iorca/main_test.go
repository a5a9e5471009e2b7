package main

import (
	"bytes"
	"strings"
	"testing"
)

// Each command's --help is on stdout with exit 0, so that it can be paged;
// a bad flag is one line on stderr naming the flag and pointing at --help,
// with exit 2 and nothing on stdout.
func TestCommandLine(t *testing.T) {
	for _, cmd := range []string{"report", "replay", "regress"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{cmd, "--help"}, &stdout, &stderr); code != exitOK {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
		if !strings.HasPrefix(stdout.String(), "Usage: iorca "+cmd) || !strings.Contains(stdout.String(), "--") || stderr.Len() != 0 {
			t.Errorf("%s --help: stdout %.80q, stderr %q", cmd, stdout.String(), stderr.String())
		}

		stdout.Reset()
		stderr.Reset()
		if code := run([]string{cmd, "--frobnicate", "x"}, &stdout, &stderr); code != exitBadInput {
			t.Errorf("%s --frobnicate: exit %d, want 2", cmd, code)
		}
		want := "iorca " + cmd + ": unknown flag: --frobnicate (see iorca " + cmd + " --help)\n"
		if stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("%s --frobnicate: stderr %q, want %q; stdout %q", cmd, stderr.String(), want, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"frob"}, &stdout, &stderr); code != exitBadInput || !strings.HasPrefix(stderr.String(), `iorca: unknown command "frob"`) {
		t.Errorf("unknown command: exit %d, stderr %.60q", code, stderr.String())
	}
}
