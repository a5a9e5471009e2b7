package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/internal/safefile"
	"github.com/iorca/iorca/internal/units"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/content"
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
  iorca report node1.tar.zst -o r.md --fail-on warning   # exit 5 if a warning or worse
  iorca report cut-short.tar.zst --salvage        # what a truncated upload still shows

Flags:
`)
	fmt.Fprint(w, cli.FlagUsages(fs))
	fmt.Fprint(w, boundsHelp)
	fmt.Fprintf(w, "\nThresholds (--threshold NAME=VALUE, or a --rules file of NAME = VALUE lines), with their defaults:\n")
	window.Help(w)
}

// thresholdFlags parses --threshold and --rules into thresholds.
// It also registers --max-bundle-bytes, which every command that reads
// bundles takes.
type thresholdFlags struct {
	set       []string
	rules     string
	maxBundle units.Bytes
}

func (tf *thresholdFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&tf.set, "threshold", nil, "override a rule threshold, NAME=VALUE (repeatable)")
	fs.StringVar(&tf.rules, "rules", "", "a file of NAME = VALUE threshold lines")
	tf.maxBundle = bundle.DefaultMaxTotal
	fs.Var(&tf.maxBundle, "max-bundle-bytes", "refuse a bundle that holds more than this uncompressed (see Bounds below)")
}

// boundsHelp explains --max-bundle-bytes in every command's --help.
const boundsHelp = `
Bounds (--max-bundle-bytes): a bundle is refused, with one line naming the
member, its size and its bound, when it holds more than this uncompressed
(default 1GiB: the largest bundles measured, 10 minutes of 2,000 processes at
1 s, hold 441 MiB), when one strace or block-layer trace holds more than the
cap the collector recorded in the manifest plus a sixteenth, or a sixteenth
of the bound (64 MiB), or when any other member holds more than a 64th of it
(16 MiB; a tick of 2,000 processes holds 0.7 MiB). The sizes are checked in
the manifest before anything is decompressed, so a hostile bundle costs
nothing to refuse; within the bounds, memory follows the model, not the
bundle: a trace is parsed and let go as it arrives, and the largest the
defaults accept keep the analyzer under 768 MiB however many there are.
`

// options are the analysis options the flags give; a bad threshold or
// rules file is a usage error of cmd.
func (tf *thresholdFlags) options(cmd string) (pipeline.Options, error) {
	o := pipeline.Defaults()
	if tf.maxBundle < 1<<20 {
		return o, usagef(cmd, "--max-bundle-bytes %s: want 1MiB or more", tf.maxBundle.String())
	}
	o.Limits = bundle.LimitsFor(int64(tf.maxBundle))
	t := &o.Thresholds
	if tf.rules != "" {
		f, err := safefile.OpenRegular(tf.rules)
		if err != nil {
			return o, usagef(cmd, "--rules %v", inputError(tf.rules, err))
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
	salvage := fs.Bool("salvage", false, "report on a damaged bundle (cut short in an upload, a member failing its checksum) from the members read before the damage, marked partial with what is missing (exit 3)")
	failOn := fs.String("fail-on", "", "exit 5, after writing the report, when a finding is at or above this severity (info, warning, critical)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report", "want exactly one bundle (see iorca report --help)")
	}
	var failAt content.Severity
	if *failOn != "" {
		if err := failAt.UnmarshalJSON([]byte(strconv.Quote(*failOn))); err != nil {
			return usagef("report", "--fail-on %q: want info, warning or critical", *failOn)
		}
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
	o.Salvage = *salvage
	res, err := pipeline.Run(fs.Arg(0), o)
	if err != nil {
		return err
	}
	data, err := render("report", f, report.New(res.Report))
	if err != nil {
		return err
	}
	if err := out.emit("report", data, stdout); err != nil {
		return err
	}
	if *failOn != "" {
		var worst []string
		for _, fd := range res.Report.Findings {
			if fd.Severity >= failAt {
				worst = append(worst, fd.Severity.String()+" "+fd.ID)
			}
		}
		if len(worst) > 0 {
			return findingsf("report", "%s: %d finding(s) at or above %s: %s", fs.Arg(0), len(worst), failAt, strings.Join(worst, ", "))
		}
	}
	if sv := res.Diagnosis.Window.Model.Salvaged; sv != nil {
		return partialf("report", "%s: salvaged: %d member(s) not read, %d of %d ticks read; the report is partial", fs.Arg(0), len(sv.Missing), sv.TicksRead, sv.TicksListed)
	}
	return nil
}
