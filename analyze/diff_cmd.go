package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/iorca/iorca/analyze/compare"
	"github.com/iorca/iorca/analyze/explain"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/diff"
	"github.com/spf13/pflag"
)

func diffUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca diff BEFORE AFTER [flags]

Compares two bundles — a node before and after a fix, or two nodes: the
findings resolved, new and unchanged; each device's iostat -x figures and
each application's IO rates, before → after with the change; the two
verdicts; in HTML, the two captures' timelines on the same axes. Bundles of
two nodes or two kernels are compared with a warning line, not refused.

Examples:
  iorca diff before.tar.zst after.tar.zst
  iorca diff before.tar.zst after.tar.zst --format html -o diff.html
  iorca diff before.tar.zst after.tar.zst --text     # unified diff of the two reports

Flags:
`)
	fmt.Fprint(w, fs.FlagUsages())
}

func cmdDiff(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("diff", stdout, stderr, diffUsage)
	format := fs.String("format", "md", "md, json or html")
	text := fs.Bool("text", false, "a unified diff of the two Markdown reports instead")
	out := fs.StringP("output", "o", "", "write to FILE instead of stdout")
	var tf thresholdFlags
	tf.register(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "iorca diff: want two bundles, BEFORE and AFTER (see iorca diff --help)")
		return exitBadInput
	}
	if *format != "md" && *format != "json" && *format != "html" {
		fmt.Fprintf(stderr, "iorca diff: --format %q: want md, json or html\n", *format)
		return exitBadInput
	}
	th, err := tf.thresholds()
	if err != nil {
		fmt.Fprintf(stderr, "iorca diff: %v\n", err)
		return exitBadInput
	}
	var ds [2]*verdict.Diagnosis
	for i, p := range fs.Args() {
		m, err := loadBundle(p)
		if err != nil {
			fmt.Fprintf(stderr, "iorca: %v\n", err)
			return exitBadInput
		}
		ds[i] = verdict.Diagnose(m, th)
	}
	before, after := fs.Arg(0), fs.Arg(1)
	var buf bytes.Buffer
	if *text {
		var a, b bytes.Buffer
		if err := report.New(explain.Build(before, ds[0])).Markdown(&a); err != nil {
			fmt.Fprintf(stderr, "iorca diff: %v\n", err)
			return exitFailure
		}
		if err := report.New(explain.Build(after, ds[1])).Markdown(&b); err != nil {
			fmt.Fprintf(stderr, "iorca diff: %v\n", err)
			return exitFailure
		}
		buf.WriteString(diff.Unified(before, after, a.String(), b.String(), *out == "" && cli.IsTerminal(stdout)))
	} else {
		d := compare.Compare(before, ds[0], after, ds[1])
		switch *format {
		case "json":
			err = report.ComparisonJSON(&buf, d)
		case "html":
			var md bytes.Buffer
			if err = report.ComparisonMarkdown(&md, d); err == nil {
				err = report.ChartsPage(&buf, "IO comparison", md.Bytes(), d.Timelines)
			}
		default:
			err = report.ComparisonMarkdown(&buf, d)
		}
		if err != nil {
			fmt.Fprintf(stderr, "iorca diff: %v\n", err)
			return exitFailure
		}
	}
	return emit("diff", *out, buf.Bytes(), stdout, stderr)
}
