package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/iorca/iorca/analyze/pipeline"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // a check failed (regress drift) or writing failed
	exitBadInput = 2 // bad usage, or a bundle that cannot be read
	// exitPartial: the report was written from a damaged bundle (report
	// --salvage), as the collector's 3 is a bundle written but partial.
	exitPartial = 3
	// exitFindings: the report was written, and it holds a finding at or
	// above report --fail-on's severity, or diff --fail-on-regress found
	// a finding new or worse (4 is the collector's).
	exitFindings = 5
)

// findingsf is a written report whose findings fail the run: exit 5.
func findingsf(cmd, format string, args ...any) error {
	return &exitError{code: exitFindings, cmd: cmd, err: fmt.Errorf(format, args...)}
}

// partialf is a report written from what survived of a damaged bundle:
// exit 3.
func partialf(cmd, format string, args ...any) error {
	return &exitError{code: exitPartial, cmd: cmd, err: fmt.Errorf(format, args...)}
}

// exitError is an error with the exit status it ends iorca with. Its
// message, when it has one, is the one line iorca prints on stderr.
type exitError struct {
	code int
	// cmd prefixes the message ("iorca report: ..."); "" prints
	// "iorca: ...".
	cmd string
	err error // nil: nothing more to say (regress printed its diffs)
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usagef is a command used wrongly: exit status 2.
func usagef(cmd, format string, args ...any) error {
	return &exitError{code: exitBadInput, cmd: cmd, err: fmt.Errorf(format, args...)}
}

// failed is a command that could not finish (an output that could not be
// written): exit status 1.
func failed(cmd string, err error) error {
	return &exitError{code: exitFailure, cmd: cmd, err: err}
}

// exitCode is the one place an error becomes an exit status and a line on
// stderr: a bundle that cannot be read names its file ("iorca CMD: FILE:
// problem", status 2); a command's own error names the command.
func exitCode(cmd string, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var le *pipeline.LoadError
	if errors.As(err, &le) {
		fmt.Fprintf(stderr, "iorca %s: %v\n", cmd, le)
		return exitBadInput
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: exitFailure, cmd: cmd, err: err}
	}
	if ee.err != nil {
		prefix := "iorca"
		if ee.cmd != "" {
			prefix += " " + ee.cmd
		}
		fmt.Fprintf(stderr, "%s: %v\n", prefix, ee.err)
	}
	return ee.code
}
