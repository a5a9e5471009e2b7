package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The bash completion script is valid bash and completes commands,
// replay's views and --format's values (replay's own: text or json);
// iorca help CMD is CMD's help.
func TestCompletionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"completion", "bash"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	script := filepath.Join(t.TempDir(), "iorca.bash")
	os.WriteFile(script, out.Bytes(), 0o644)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash here")
	}
	probe := `source "$1"
complete_words() { COMP_WORDS=("${@:2}"); COMP_CWORD=$1; _iorca; echo "${COMPREPLY[*]}"; }
complete_words 1 iorca re
complete_words 3 iorca replay x.tar.zst bio
complete_words 3 iorca report --format j
complete_words 3 iorca replay --format t
complete_words 3 iorca diff --format ''`
	got, err := exec.Command("bash", "-c", probe, "bash", script).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	want := []string{"redact regress replay report", "biotop biolatency", "json", "text", "md json html"}
	if len(lines) != len(want) {
		t.Fatalf("completions %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("completion %d: %q, want %q", i, lines[i], want[i])
		}
	}
	out.Reset()
	if code := run([]string{"help", "fleet"}, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "Usage: iorca fleet") {
		t.Errorf("iorca help fleet: exit %d, %.80q", code, out.String())
	}
	if code := run([]string{"completion", "fish"}, &out, &errb); code != exitBadInput {
		t.Errorf("completion fish: exit %d", code)
	}
}
