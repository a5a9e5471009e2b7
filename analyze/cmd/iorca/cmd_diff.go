package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/iorca/iorca/analyze/comparison"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/report/textdiff"
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
	fmt.Fprint(w, cli.FlagUsages(fs))
	fmt.Fprint(w, boundsHelp)
}

func cmdDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", stdout, stderr, diffUsage)
	format := formatFlag(fs)
	text := fs.Bool("text", false, "a unified diff of the two Markdown reports instead")
	failRegress := fs.Bool("fail-on-regress", false, "exit 5, after writing the comparison, when a finding is new in AFTER or more severe than in BEFORE")
	var out outputFlags
	out.register(fs)
	var tf thresholdFlags
	tf.register(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("diff", "want two bundles, BEFORE and AFTER (see iorca diff --help)")
	}
	f, err := lookupFormat("diff", *format)
	if err != nil {
		return err
	}
	o, err := tf.options("diff")
	if err != nil {
		return err
	}
	var res [2]*pipeline.Result
	for i, p := range fs.Args() {
		if res[i], err = pipeline.Run(p, o); err != nil {
			return err
		}
	}
	before, after := fs.Arg(0), fs.Arg(1)
	if *text {
		md, _ := lookupFormat("diff", "md")
		a, err := render("diff", md, report.New(res[0].Report))
		if err != nil {
			return err
		}
		b, err := render("diff", md, report.New(res[1].Report))
		if err != nil {
			return err
		}
		return out.emit("diff", []byte(textdiff.Unified(before, after, string(a), string(b), out.toStdout() && cli.IsTerminal(stdout))), stdout)
	}
	cmp := comparison.Compare(before, res[0].Diagnosis, after, res[1].Diagnosis)
	data, err := render("diff", f, comparisonDoc{cmp})
	if err != nil {
		return err
	}
	if err := out.emit("diff", data, stdout); err != nil {
		return err
	}
	if *failRegress {
		if worse := regressions(cmp); len(worse) > 0 {
			return findingsf("diff", "%s: %d finding(s) new or worse than in %s: %s", after, len(worse), before, strings.Join(worse, ", "))
		}
	}
	return nil
}

// regressions are the findings new in the after side, or more severe
// there than before.
func regressions(cmp *content.Comparison) []string {
	var out []string
	for _, c := range cmp.New {
		out = append(out, "new "+c.SeverityAfter+" "+c.ID)
	}
	rank := map[string]int{"info": 0, "warning": 1, "critical": 2}
	for _, c := range cmp.Unchanged {
		if rank[c.SeverityAfter] > rank[c.SeverityBefore] {
			out = append(out, c.ID+" "+c.SeverityBefore+" -> "+c.SeverityAfter)
		}
	}
	return out
}

// comparisonDoc writes a comparison in the output formats; its HTML
// draws the two captures' timelines.
type comparisonDoc struct{ d *content.Comparison }

func (c comparisonDoc) Markdown(w io.Writer) error { return report.ComparisonMarkdown(w, c.d) }
func (c comparisonDoc) JSON(w io.Writer) error     { return report.ComparisonJSON(w, c.d) }
func (c comparisonDoc) HTML(w io.Writer) error {
	return markdownPage(c, w, func(w io.Writer, md []byte) error { return report.ChartsPage(w, "IO comparison", md, c.d.Timelines) })
}
