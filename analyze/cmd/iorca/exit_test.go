package main

import (
	"bytes"
	"errors"
	"fmt"
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
		{"bundle", fmt.Errorf("reading: %w", &pipeline.LoadError{Err: errors.New("x.tar.zst: truncated")}), exitBadInput, "iorca: x.tar.zst: truncated\n"},
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
