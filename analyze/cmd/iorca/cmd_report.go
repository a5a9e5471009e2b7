package main

import (
	"fmt"
	"io"

	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/safefile"
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

// options are the analysis options the flags give; a bad threshold or
// rules file is a usage error of cmd.
func (tf *thresholdFlags) options(cmd string) (pipeline.Options, error) {
	o := pipeline.Defaults()
	t := &o.Thresholds
	if tf.rules != "" {
		f, err := safefile.OpenRegular(tf.rules)
		if err != nil {
			return o, usagef(cmd, "%v", err)
		}
		defer f.Close()
		if err := t.Load(f, tf.rules); err != nil {
			return o, usagef(cmd, "%v", err)
		}
	}
	for _, kv := range tf.set {
		if err := t.Set(kv); err != nil {
			return o, usagef(cmd, "%v", err)
		}
	}
	return o, nil
}

func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", stdout, stderr, reportUsage)
	format := formatFlag(fs)
	var out outputFlags
	out.register(fs)
	var tf thresholdFlags
	tf.register(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report", "want exactly one bundle (see iorca report --help)")
	}
	f, err := lookupFormat("report", *format)
	if err != nil {
		return err
	}
	o, err := tf.options("report")
	if err != nil {
		return err
	}
	o.Charts = f.name == "html"
	res, err := pipeline.Run(fs.Arg(0), o)
	if err != nil {
		return err
	}
	data, err := render("report", f, report.New(res.Report))
	if err != nil {
		return err
	}
	return out.emit("report", data, stdout)
}
