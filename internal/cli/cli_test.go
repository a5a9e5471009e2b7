package cli

import (
	"bytes"
	"os"
	"testing"
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
	if got := Version("v1.2.3"); got != "v1.2.3" {
		t.Errorf("stamped: %q", got)
	}
	// A test binary has no module version: "(devel)" or empty.
	if got := Version(""); got != "dev" {
		t.Errorf("unstamped test binary: %q, want dev", got)
	}
}
