package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// One CLI: help is on stdout with exit 0 for every command, an unknown
// one is an error; every error is one line on stderr that names the path
// the user gave once (never a temporary file) and what failed; "-" is
// stdout everywhere.
func TestCLIConsistency(t *testing.T) {
	idle := filepath.Join(samplesDir, "idle.tar.zst")
	corpus := t.TempDir()
	copyCorpusSample(t, corpus, "idle", "idle")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a regexp stdout must match
		stderr string // a regexp stderr must match; "" is empty
	}{
		{"completion --help", []string{"completion", "--help"}, exitOK, `^Usage: iorca completion bash\n`, ""},
		{"help completion", []string{"help", "completion"}, exitOK, `^Usage: iorca completion bash\n`, ""},
		{"version --help", []string{"version", "--help"}, exitOK, `^Usage: iorca version\n`, ""},
		{"help version", []string{"help", "version"}, exitOK, `^Usage: iorca version\n`, ""},
		{"version", []string{"version"}, exitOK, `^iorca \S+`, ""},
		{"help report", []string{"help", "report"}, exitOK, `^Usage: iorca report BUNDLE`, ""},
		{"help unknown", []string{"help", "nosuch"}, exitBadInput, `^$`, `^iorca help: unknown command "nosuch"`},
		{"size defaults", []string{"report", "--help"}, exitOK, `--max-bundle-bytes bytes +.*\(default 1GiB\)`, ""},
		{"redact missing input", []string{"redact", "/nonexist", filepath.Join(t.TempDir(), "o.tar.zst")}, exitBadInput, `^$`, `^iorca redact: /nonexist: no such file or directory\n$`},
		{"redact output directory missing", []string{"redact", idle, "/nonexist/o.tar.zst"}, exitFailure, `^$`, `^iorca redact: output /nonexist/o.tar.zst: no such file or directory\n$`},
		{"fleet missing input", []string{"fleet", "/nonexist"}, exitBadInput, `^$`, `^iorca fleet: /nonexist: no such file or directory\n$`},
		{"rules missing", []string{"report", idle, "--rules", "/nonexist"}, exitBadInput, `^$`, `^iorca report: --rules /nonexist: no such file or directory\n$`},
		{"rules a directory", []string{"report", idle, "--rules", "/"}, exitBadInput, `^$`, `^iorca report: --rules /: is a directory, not a regular file\n$`},
		{"report missing input", []string{"report", "/nonexist"}, exitBadInput, `^$`, `^iorca report: /nonexist: no such file or directory\n$`},
		{"junit to stdout", []string{"regress", corpus, "--junit", "-", "--color", "never"}, exitOK, `^<\?xml [^\n]*\n<testsuite [^\n]*tests="1" failures="0"`, `^ok +idle\n1 passed, 0 failed\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			if !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout %.300q does not match %q", stdout.String(), tt.stdout)
			}
			if tt.stderr == "" && stderr.Len() > 0 || tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr %q does not match %q", stderr.String(), tt.stderr)
			}
			if tt.code != exitOK && (strings.Count(stderr.String(), "\n") != 1 || strings.Contains(stderr.String(), ".partial")) {
				t.Errorf("the error is not one line naming the given path: %q", stderr.String())
			}
		})
	}
	if _, err := os.Stat("-"); err == nil {
		t.Errorf("--junit - wrote a file named -")
	}
}

// replay's views line up however long a view's name (biolatency is
// ten letters), in its --help and in the list a bundle alone gives.
func TestReplayViewsAligned(t *testing.T) {
	for _, args := range [][]string{{"replay", "--help"}, {"replay", filepath.Join(samplesDir, "idle.tar.zst")}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		column := -1
		for _, line := range strings.Split(stdout.String(), "\n") {
			m := regexp.MustCompile(`^  ((?:iotop|iostat|biolatency|biotop|timeline)\s+)\S`).FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if column >= 0 && len(m[1]) != column {
				t.Errorf("%v: %q starts its help at column %d, others at %d", args, line, len(m[1]), column)
			}
			column = len(m[1])
		}
		if column < 0 {
			t.Errorf("%v: no view listed:\n%s", args, stdout.String())
		}
	}
}

// Each threshold's help says what it means alone: --help lists them by
// name, so a line that leans on the one before it ("... and", "or")
// loses its sense.
func TestThresholdHelpStandsAlone(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"report", "--help"}, &stdout, &stderr)
	_, table, ok := strings.Cut(stdout.String(), "\nThresholds ")
	if !ok {
		t.Fatalf("no thresholds in report --help")
	}
	lean := regexp.MustCompile(`^  [a-z_]+ +\S+ +(\.\.\.|and |or )`)
	for _, line := range strings.Split(table, "\n") {
		if lean.MatchString(line) {
			t.Errorf("threshold help leans on another line: %q", line)
		}
	}
}
