package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/iorca/iorca/analyze/fleet"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/internal/safefile"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/content"
	"github.com/spf13/pflag"
)

func fleetUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca fleet PATH... [flags]

Reviews many nodes at once. Each PATH is a bundle, a JSON report (from
"iorca report --format json", made elsewhere — one Kubernetes Job per shard,
say — and merged here), or a directory of them (*.tar.zst, *.json). Bundles
are analysed in parallel, --jobs at a time, so memory stays bounded however
many there are: at most --jobs times what one bundle may cost (see Bounds
below; a bundle over them is refused unread). An input that cannot be read
is one line in the "Unreadable" list, never the end of the run.

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
  iorca fleet bundles/ --alert-rules iorca-rules.yml   # every report's alert rules, each once

Flags:
`)
	fmt.Fprint(w, cli.FlagUsages(fs))
	fmt.Fprint(w, boundsHelp)
}

func cmdFleet(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fleet", stdout, stderr, fleetUsage)
	format := formatFlag(fs)
	by := fs.String("by", "", "group the nodes by this label (zone, pool...)")
	var out outputFlags
	out.register(fs)
	workers := fs.Int("jobs", min(runtime.GOMAXPROCS(0), 4), "bundles analysed at once")
	quiet := fs.BoolP("quiet", "q", false, "no progress line")
	alertRules := fs.String("alert-rules", "", "write the alert rules of all the reports, each once, to this Prometheus rule file (log-based rules to FILE.loki.yml)")
	var tf thresholdFlags
	tf.register(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("fleet", "give at least one bundle, report or directory (see iorca fleet --help)")
	}
	f, err := lookupFormat("fleet", *format)
	if err != nil {
		return err
	}
	if *workers < 1 {
		return usagef("fleet", "--jobs %d: want 1 or more", *workers)
	}
	o, err := tf.options("fleet")
	if err != nil {
		return err
	}
	paths, err := fleet.Inputs(fs.Args())
	if err != nil {
		return usagef("fleet", "%v", err)
	}
	if len(paths) == 0 {
		return usagef("fleet", "no bundle (*.tar.zst) or report (*.json) found")
	}
	analyze := func(path string) (*content.Report, error) {
		res, err := pipeline.Run(path, o)
		if err != nil {
			return nil, err
		}
		return res.Report, nil
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
	nodes, dups := fleet.Dedupe(nodes)
	summary := fleet.Summarize(nodes, bad, *by)
	summary.Duplicates = dups
	data, err := render("fleet", f, fleetDoc{summary})
	if err != nil {
		return err
	}
	if err := out.emit("fleet", data, stdout); err != nil {
		return err
	}
	if *alertRules != "" {
		if err := writeAlertRules(*alertRules, nodes, out.force); err != nil {
			return failed("fleet", err)
		}
	}
	if len(nodes) == 0 {
		return usagef("fleet", "none of the %d inputs could be read", len(paths))
	}
	return nil
}

// fleetDoc writes a fleet review in the output formats.
type fleetDoc struct{ s *content.Fleet }

func (d fleetDoc) Markdown(w io.Writer) error { return report.FleetMarkdown(w, d.s) }
func (d fleetDoc) JSON(w io.Writer) error     { return report.FleetJSON(w, d.s) }
func (d fleetDoc) HTML(w io.Writer) error {
	return markdownPage(d, w, func(w io.Writer, md []byte) error {
		return report.MarkdownPage(w, fmt.Sprintf("IO fleet review: %d nodes", len(d.s.Nodes)), md)
	})
}

// writeAlertRules writes the nodes' alert rules, each once, as one
// Prometheus rule file at path, and the log-based ones (LogQL) beside it
// at path.loki.yml; nothing for a kind no report proposes.
func writeAlertRules(path string, nodes []*content.FleetNode, force bool) error {
	var sets [][]content.Alert
	for _, n := range nodes {
		sets = append(sets, n.Alerts)
	}
	all := report.MergeAlerts(sets...)
	prom := report.RuleFile(all, "prometheus")
	if prom == "" {
		prom = "groups: []\n"
	}
	if err := safefile.Write(path, []byte(prom), force); err != nil {
		return err
	}
	if loki := report.RuleFile(all, "loki"); loki != "" {
		return safefile.Write(path+".loki.yml", []byte(loki), force)
	}
	return nil
}
