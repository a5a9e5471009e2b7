package main

import (
	"bytes"
	"fmt"
	"io"
	"runtime"

	"github.com/iorca/iorca/analyze/explain"
	"github.com/iorca/iorca/analyze/fleet"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/report"
	"github.com/spf13/pflag"
)

func fleetUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca fleet PATH... [flags]

Reviews many nodes at once. Each PATH is a bundle, a JSON report (from
"iorca report --format json", made elsewhere — one Kubernetes Job per shard,
say — and merged here), or a directory of them (*.tar.zst, *.json). Bundles
are analysed in parallel, a few at a time, so memory stays bounded however
many there are; an input that cannot be read is one line in the
"Unreadable" list, never the end of the run.

It shows the mitigations merged, the one that would fix the most nodes
first; the culprits that recur on several nodes (the same container name,
workload or image); the findings by how many nodes have them; with --by, the
nodes grouped by a label the collector attached (--label zone=...), worst
group first; and one row per node: its verdict, culprit, worst device's
%util and await, and when it was captured.

Examples:
  iorca fleet bundles/                         # Markdown on stdout
  iorca fleet bundles/ --by zone --format html -o fleet.html
  iorca fleet reports/*.json --format json | jq .recurring_culprits

Flags:
`)
	fmt.Fprint(w, fs.FlagUsages())
}

func cmdFleet(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet", stdout, stderr, fleetUsage)
	format := fs.String("format", "md", "md, json or html")
	by := fs.String("by", "", "group the nodes by this label (zone, pool...)")
	out := fs.StringP("output", "o", "", "write to FILE instead of stdout")
	workers := fs.Int("jobs", min(runtime.GOMAXPROCS(0), 4), "bundles analysed at once")
	quiet := fs.BoolP("quiet", "q", false, "no progress line")
	var tf thresholdFlags
	tf.register(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "iorca fleet: give at least one bundle, report or directory (see iorca fleet --help)")
		return exitBadInput
	}
	if *format != "md" && *format != "json" && *format != "html" {
		fmt.Fprintf(stderr, "iorca fleet: --format %q: want md, json or html\n", *format)
		return exitBadInput
	}
	if *workers < 1 {
		fmt.Fprintf(stderr, "iorca fleet: --jobs %d: want 1 or more\n", *workers)
		return exitBadInput
	}
	th, err := tf.thresholds()
	if err != nil {
		fmt.Fprintf(stderr, "iorca fleet: %v\n", err)
		return exitBadInput
	}
	paths, err := fleet.Inputs(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "iorca fleet: %v\n", err)
		return exitBadInput
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "iorca fleet: no bundle (*.tar.zst) or report (*.json) found")
		return exitBadInput
	}
	analyze := func(path string) ([]byte, error) {
		m, err := loadBundle(path)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		err = report.New(explain.Build(path, verdict.Diagnose(m, th))).JSON(&buf)
		return buf.Bytes(), err
	}
	var progress func(done, total, bad int)
	if !*quiet && cli.IsTerminal(stderr) {
		progress = func(done, total, bad int) {
			fmt.Fprintf(stderr, "\riorca fleet: %d/%d read, %d unreadable", done, total, bad)
			if done == total {
				fmt.Fprint(stderr, "\r\033[K")
			}
		}
	}
	nodes, bad := fleet.Read(paths, *workers, analyze, progress)
	s := fleet.Summarize(nodes, bad, *by)
	var buf bytes.Buffer
	switch *format {
	case "json":
		err = report.FleetJSON(&buf, s)
	case "html":
		var md bytes.Buffer
		if err = report.FleetMarkdown(&md, s); err == nil {
			err = report.MarkdownPage(&buf, fmt.Sprintf("IO fleet review: %d nodes", len(s.Nodes)), md.Bytes())
		}
	default:
		err = report.FleetMarkdown(&buf, s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca fleet: %v\n", err)
		return exitFailure
	}
	if code := emit("fleet", *out, buf.Bytes(), stdout, stderr); code != exitOK {
		return code
	}
	if len(nodes) == 0 {
		fmt.Fprintf(stderr, "iorca fleet: none of the %d inputs could be read\n", len(paths))
		return exitBadInput
	}
	return exitOK
}
