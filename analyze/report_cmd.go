package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/iorca/iorca/analyze/explain"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report"
	"github.com/spf13/pflag"
)

func reportUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca report BUNDLE [flags]

Writes a root-cause report of the bundle: the verdict (the cause, the
culprit by name, the confidence), the evidence chain an SRE would follow
with the figures and the bundle member each comes from, ranked findings,
mitigations, monitoring and alert rules, and an appendix of tables. The
same bundle always gives the same bytes.

Examples:
  iorca report node1.tar.zst                      # Markdown on stdout
  iorca report node1.tar.zst --format html -o r.html
  iorca report node1.tar.zst --format json | jq .verdict
  iorca report node1.tar.zst --threshold util_pct=90 --threshold await_ms=20

Flags:
`)
	fmt.Fprint(w, fs.FlagUsages())
	t := window.Defaults()
	fmt.Fprintf(w, "\nThresholds (--threshold NAME=VALUE, or a --rules file of NAME = VALUE lines):\n")
	vals := t.Values()
	for _, n := range t.Names() {
		fmt.Fprintf(w, "  %-32s %g\n", n, vals[n])
	}
}

// thresholdFlags parses --threshold and --rules into thresholds.
type thresholdFlags struct {
	set   []string
	rules string
}

func (tf *thresholdFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&tf.set, "threshold", nil, "override a rule threshold, NAME=VALUE (repeatable)")
	fs.StringVar(&tf.rules, "rules", "", "a file of NAME = VALUE threshold lines")
}

func (tf *thresholdFlags) thresholds() (window.Thresholds, error) {
	t := window.Defaults()
	if tf.rules != "" {
		f, err := os.Open(tf.rules)
		if err != nil {
			return t, err
		}
		defer f.Close()
		if err := t.Load(f, tf.rules); err != nil {
			return t, err
		}
	}
	for _, kv := range tf.set {
		if err := t.Set(kv); err != nil {
			return t, err
		}
	}
	return t, nil
}

func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", stdout, stderr, reportUsage)
	format := fs.String("format", "md", "md, json or html")
	out := fs.StringP("output", "o", "", "write to this file instead of stdout")
	var tf thresholdFlags
	tf.register(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "iorca report: want exactly one bundle (see iorca report --help)")
		return exitBadInput
	}
	if *format != "md" && *format != "json" && *format != "html" {
		fmt.Fprintf(stderr, "iorca report: --format %q: want md, json or html\n", *format)
		return exitBadInput
	}
	th, err := tf.thresholds()
	if err != nil {
		fmt.Fprintf(stderr, "iorca report: %v\n", err)
		return exitBadInput
	}
	m, err := loadBundle(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "iorca: %v\n", err)
		return exitBadInput
	}
	d := verdict.Diagnose(m, th)
	rc := explain.Build(fs.Arg(0), d)
	if *format == "html" {
		rc.Charts = explain.Charts(d)
	}
	rep := report.New(rc)
	var buf bytes.Buffer
	switch *format {
	case "json":
		err = rep.JSON(&buf)
	case "html":
		err = rep.HTML(&buf)
	default:
		err = rep.Markdown(&buf)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca report: %v\n", err)
		return exitFailure
	}
	return emit("report", *out, buf.Bytes(), stdout, stderr)
}

// emit writes a command's output to stdout, or to the file out through
// writeAtomic, and says what failed.
func emit(cmd, out string, data []byte, stdout, stderr io.Writer) int {
	var err error
	if out == "" {
		_, err = stdout.Write(data)
	} else {
		err = writeAtomic(out, data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca %s: %v\n", cmd, err)
		return exitFailure
	}
	return exitOK
}

// writeAtomic writes data to path through a temporary file and a rename,
// so that a failure leaves no partial report.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
