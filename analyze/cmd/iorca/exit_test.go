package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/pipeline"
)

// One place maps errors to the exit status and the line on stderr.
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
		line string
	}{
		{"ok", nil, exitOK, ""},
		{"bundle", fmt.Errorf("reading: %w", &pipeline.LoadError{Err: errors.New("x.tar.zst: truncated")}), exitBadInput, "iorca report: x.tar.zst: truncated\n"},
		{"usage", usagef("report", "want exactly one bundle"), exitBadInput, "iorca report: want exactly one bundle\n"},
		{"output", failed("fleet", errors.New("no space left on device")), exitFailure, "iorca fleet: no space left on device\n"},
		{"drift", &exitError{code: exitFailure}, exitFailure, ""},
		{"unexpected", errors.New("boom"), exitFailure, "iorca diff: boom\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := "report"
			if tc.name == "unexpected" {
				cmd = "diff"
			}
			if got := exitCode(cmd, tc.err, &stderr); got != tc.code || stderr.String() != tc.line {
				t.Errorf("exitCode = %d, %q; want %d, %q", got, stderr.String(), tc.code, tc.line)
			}
		})
	}
}

// Every command that writes a document takes the same formats, and says
// them the same way when given another.
func TestOutputFormats(t *testing.T) {
	if got := formatNames(); got != "md, json or html" {
		t.Errorf("formatNames = %q", got)
	}
	for cmd, operands := range map[string][]string{"report": {"a"}, "fleet": {"a", "b"}, "diff": {"a", "b"}} {
		var stdout, stderr bytes.Buffer
		args := append([]string{cmd, "--format", "pdf"}, operands...)
		if code := run(args, &stdout, &stderr); code != exitBadInput || stderr.String() != "iorca "+cmd+": --format \"pdf\": want md, json or html\n" {
			t.Errorf("%s --format pdf: exit %d, %q", cmd, code, stderr.String())
		}
	}
}

// report --fail-on and diff --fail-on-regress write their document, then
// exit 5 when findings call for it: a quiet capture passes, a sync storm
// fails at warning; a comparison fails on any finding new or worse.
func TestFailOnFindings(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		line string
	}{
		{[]string{"report", "../../../samples/idle.tar.zst", "--fail-on", "warning", "-o", dir + "/idle.md"}, exitOK, ""},
		{[]string{"report", "../../../samples/fsync-storm.tar.zst", "--fail-on", "warning", "-o", dir + "/storm.md"}, exitFindings, "at or above warning: warning sync-writes"},
		{[]string{"report", "../../../samples/fsync-storm.tar.zst", "--fail-on", "critical", "-o", dir + "/storm2.md"}, exitOK, ""},
		{[]string{"report", "../../../samples/idle.tar.zst", "--fail-on", "severe"}, exitBadInput, `--fail-on "severe": want info, warning or critical`},
		{[]string{"diff", "../../../samples/overlay-sync-logger-tmpfs.tar.zst", "../../../samples/overlay-sync-logger.tar.zst", "--fail-on-regress", "-o", dir + "/d1.md"}, exitFindings, "new or worse than in"},
		// The mitigation trades the sync storm for CPU: cpu-cost is new.
		{[]string{"diff", "../../../samples/overlay-sync-logger.tar.zst", "../../../samples/overlay-sync-logger-tmpfs.tar.zst", "--fail-on-regress", "-o", dir + "/d2.md"}, exitFindings, "new warning cpu-cost"},
		{[]string{"diff", "../../../samples/fsync-storm.tar.zst", "../../../samples/fsync-storm.tar.zst", "--fail-on-regress", "-o", dir + "/d3.md"}, exitOK, ""},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(tc.args, &stdout, &stderr); got != tc.code || !strings.Contains(stderr.String(), tc.line) {
			t.Errorf("%v: exit %d, %q; want %d, %q", tc.args, got, stderr.String(), tc.code, tc.line)
		}
		if out := tc.args[len(tc.args)-1]; tc.code != exitBadInput {
			if st, err := os.Stat(out); err != nil || st.Size() == 0 {
				t.Errorf("%v: the document was not written before the exit status: %v", tc.args, err)
			}
		}
	}
}
