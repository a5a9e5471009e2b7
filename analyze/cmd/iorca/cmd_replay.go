package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/analyze/replay"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/cli"
	"github.com/spf13/pflag"
)

func replayUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca replay BUNDLE [VIEW [PID]] [flags]

Rebuilds, from the bundle alone, what the familiar tools would have shown
on the node. Without a VIEW it lists the views and the bundle's time span.
Interval views print one block per tick, as the tools do when given an
interval; --summary prints one block over the whole capture; --at or
--tick shows the interval ending at that moment (tick 0 is "since boot").
iotop, as iotop -a, accumulates each process's bytes from the start of
the capture up to that moment; --rate shows the interval's rates instead.
iostat and pidstat print sysstat's banner line first (the date in ISO
form). --format json writes schema iorca.replay/v1 (docs/schema/
replay.schema.json): each row an object of snake_case keys, sizes in
bytes.

Views:
`)
	width := viewNameWidth()
	for _, v := range replay.Views {
		like := ""
		if v.Like != "" {
			like = " (like " + v.Like + ")"
		}
		fmt.Fprintf(w, "  %-*s %s%s\n", width, v.Name, v.Help, like)
	}
	fmt.Fprint(w, "\nExamples:\n  iorca replay node1.tar.zst iotop --at 06:10:02\n  iorca replay node1.tar.zst iostat --summary\n  iorca replay node1.tar.zst findmnt --target /var/log/nginx/access.log --pid 4242\n  iorca replay node1.tar.zst timeline --threshold util_pct=60   # the onset by these thresholds\n\nFlags:\n")
	fmt.Fprint(w, cli.FlagUsages(fs))
	fmt.Fprint(w, boundsHelp)
}

func cmdReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stdout, stderr, replayUsage)
	at := fs.String("at", "", "show the interval ending at this time (HH:MM:SS UTC, RFC 3339, or +DURATION from the start)")
	tick := fs.Int("tick", -1, "show the interval ending at this tick")
	window := fs.Duration("window", 0, "length of the interval ending at --at/--tick (default one tick)")
	summary := fs.Bool("summary", false, "one block over the whole capture")
	rate := fs.Bool("rate", false, "iotop: the interval's rates instead of bytes accumulated from the capture's start")
	all := fs.Bool("all", false, "include idle devices, partitions, idle processes, kernel threads, pseudo filesystems")
	pid := fs.Int("pid", 0, "pidio, strace: this process; findmnt: this target's mount namespace")
	target := fs.String("target", "", "findmnt: the mount holding this path, with its overlay layers")
	format := fs.String("format", viewFormats[0], strings.Join(viewFormats, " or "))
	var out outputFlags
	out.register(fs)
	var tf thresholdFlags
	tf.register(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usagef("replay", "want a bundle (see iorca replay --help)")
	}
	if !slices.Contains(viewFormats, *format) {
		return usagef("replay", "--format %q: want text or json", *format)
	}
	o, err := tf.options("replay")
	if err != nil {
		return err
	}
	m, err := pipeline.Load(fs.Arg(0), o.Limits)
	if err != nil {
		return err
	}
	if fs.NArg() == 1 {
		listViews(stdout, m)
		return nil
	}
	v, ok := replay.Find(fs.Arg(1))
	if !ok {
		return usagef("replay", "no view %q (see iorca replay --help)", fs.Arg(1))
	}
	ro := replay.Options{Tick: -1, Summary: *summary, Rate: *rate, All: *all, PID: *pid, Target: *target}
	if fs.NArg() > 2 {
		n, err := strconv.Atoi(fs.Arg(2))
		if err != nil || n <= 0 {
			return usagef("replay", "%q is not a PID", fs.Arg(2))
		}
		ro.PID = n
	}
	switch {
	case *at != "" && *tick >= 0:
		return usagef("replay", "give --at or --tick, not both")
	case *at != "":
		n, err := m.ParseAt(*at)
		if err != nil {
			return usagef("replay", "%v", err)
		}
		ro.Tick = n
	case *tick >= 0:
		if err := m.CheckTick(*tick); err != nil {
			return usagef("replay", "%v", err)
		}
		ro.Tick = *tick
	}
	if *window > 0 {
		iv := time.Duration(m.Manifest.Options.Interval)
		if iv <= 0 {
			iv = time.Second
		}
		ro.Window = int(math.Ceil(float64(*window) / float64(iv)))
	}
	if v.Name == "timeline" {
		ro.Marks = timelineMarks(fs.Arg(0), m, o)
	}
	doc, err := v.Document(m, ro)
	if err != nil {
		return usagef("replay "+v.Name, "%v", err)
	}
	var b bytes.Buffer
	if *format == "json" {
		err = replay.JSON(&b, doc)
	} else {
		err = replay.Text(&b, doc)
	}
	if err != nil {
		return failed("replay", err)
	}
	return out.emit("replay", b.Bytes(), stdout)
}

func listViews(w io.Writer, m *model.Model) {
	first, last := m.Span()
	man := m.Manifest
	fmt.Fprintf(w, "bundle of %s (kernel %s), %d ticks every %s from %s to %s UTC",
		man.Host.Hostname, man.Host.KernelRelease, len(m.Ticks), time.Duration(man.Options.Interval),
		first.UTC().Format("2006-01-02 15:04:05"), last.UTC().Format("15:04:05"))
	if man.Partial {
		fmt.Fprintf(w, " (partial: %s)", man.PartialReason)
	}
	fmt.Fprintf(w, "\n%d processes, %d targets\n\nviews:\n", len(m.Procs), len(m.Targets))
	width := viewNameWidth()
	for _, v := range replay.Views {
		fmt.Fprintf(w, "  %-*s %s\n", width, v.Name, v.Help)
	}
}

// viewNameWidth is the longest view name, so that the views' help lines
// start in one column.
func viewNameWidth() int {
	width := 0
	for _, v := range replay.Views {
		width = max(width, len(v.Name))
	}
	return width
}

// timelineMarks labels the ticks at which the incident began (by the
// diagnosis with the user's thresholds) and at which a trigger fired.
func timelineMarks(path string, m *model.Model, o pipeline.Options) map[int]string {
	marks := map[int]string{}
	add := func(k int, s string) {
		if marks[k] != "" {
			s = marks[k] + "; " + s
		}
		marks[k] = s
	}
	if cs := m.Manifest.Capture; cs != nil {
		if t := cs.Trigger; t != nil && t.Fired {
			add(t.Tick, "trigger "+t.Expression+" fired")
		} else if cs.How == bundle.StartSignal && cs.Record != nil {
			add(cs.StartTick, cs.Signal+": window written")
		}
	}
	if on := pipeline.Analyze(path, m, o).Diagnosis.Verdict.Onset; on != nil {
		if on.UnderWay {
			add(on.Tick, "onset: already under way")
		} else {
			add(on.Tick, "onset")
		}
	}
	return marks
}
