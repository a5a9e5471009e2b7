package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/replay"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/spf13/pflag"
)

func replayUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: iorca replay BUNDLE [VIEW [PID]] [flags]

Rebuilds, from the bundle alone, what the familiar tools would have shown
on the node. Without a VIEW it lists the views and the bundle's time span.
Interval views print one block per tick, as the tools do when given an
interval; --summary prints one block over the whole capture; --at or
--tick shows the interval ending at that moment (tick 0 is "since boot").

Views:
`)
	for _, v := range replay.Views {
		like := ""
		if v.Like != "" {
			like = " (like " + v.Like + ")"
		}
		fmt.Fprintf(w, "  %-9s %s%s\n", v.Name, v.Help, like)
	}
	fmt.Fprint(w, "\nExamples:\n  iorca replay node1.tar.zst iotop --at 06:10:02\n  iorca replay node1.tar.zst iostat --summary\n  iorca replay node1.tar.zst findmnt --target /var/log/nginx/access.log --pid 4242\n\nFlags:\n")
	fmt.Fprint(w, fs.FlagUsages())
}

func cmdReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", stdout, stderr, replayUsage)
	at := fs.String("at", "", "show the interval ending at this time (HH:MM:SS UTC, RFC 3339, or +DURATION from the start)")
	tick := fs.Int("tick", -1, "show the interval ending at this tick")
	window := fs.Duration("window", 0, "length of the interval ending at --at/--tick (default one tick)")
	summary := fs.Bool("summary", false, "one block over the whole capture")
	rate := fs.Bool("rate", false, "iotop: bandwidth instead of accumulated bytes")
	all := fs.Bool("all", false, "include idle devices, partitions, idle processes, kernel threads, pseudo filesystems")
	pid := fs.Int("pid", 0, "pidio, strace: this process; findmnt: this target's mount namespace")
	target := fs.String("target", "", "findmnt: the mount holding this path, with its overlay layers")
	format := fs.String("format", "text", "text or json")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(stderr, "iorca replay: want a bundle (see iorca replay --help)")
		return exitBadInput
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "iorca replay: --format %q: want text or json\n", *format)
		return exitBadInput
	}
	m, err := loadBundle(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "iorca: %v\n", err)
		return exitBadInput
	}
	if fs.NArg() == 1 {
		listViews(stdout, m)
		return exitOK
	}
	v, ok := replay.Find(fs.Arg(1))
	if !ok {
		fmt.Fprintf(stderr, "iorca replay: no view %q (see iorca replay --help)\n", fs.Arg(1))
		return exitBadInput
	}
	o := replay.Options{Tick: -1, Summary: *summary, Rate: *rate, All: *all, PID: *pid, Target: *target}
	if fs.NArg() > 2 {
		n, err := strconv.Atoi(fs.Arg(2))
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "iorca replay: %q is not a PID\n", fs.Arg(2))
			return exitBadInput
		}
		o.PID = n
	}
	switch {
	case *at != "" && *tick >= 0:
		fmt.Fprintln(stderr, "iorca replay: give --at or --tick, not both")
		return exitBadInput
	case *at != "":
		n, err := m.ParseAt(*at)
		if err != nil {
			fmt.Fprintf(stderr, "iorca replay: %v\n", err)
			return exitBadInput
		}
		o.Tick = n
	case *tick >= 0:
		if err := m.CheckTick(*tick); err != nil {
			fmt.Fprintf(stderr, "iorca replay: %v\n", err)
			return exitBadInput
		}
		o.Tick = *tick
	}
	if *window > 0 {
		iv := time.Duration(m.Manifest.Options.Interval)
		if iv <= 0 {
			iv = time.Second
		}
		o.Window = int(math.Ceil(float64(*window) / float64(iv)))
	}
	if v.Name == "timeline" {
		o.Marks = timelineMarks(m)
	}
	blocks, err := v.Run(m, o)
	if err != nil {
		fmt.Fprintf(stderr, "iorca replay %s: %v\n", v.Name, err)
		return exitBadInput
	}
	if *format == "json" {
		err = replay.JSON(stdout, v.Name, blocks)
	} else {
		err = replay.Text(stdout, blocks)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca replay: %v\n", err)
		return exitFailure
	}
	return exitOK
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
	for _, v := range replay.Views {
		fmt.Fprintf(w, "  %-9s %s\n", v.Name, v.Help)
	}
}

// timelineMarks labels the ticks at which the incident began (by the
// default thresholds' diagnosis) and at which a trigger fired.
func timelineMarks(m *model.Model) map[int]string {
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
	if o := verdict.Diagnose(m, window.Defaults()).Verdict.Onset; o != nil {
		if o.UnderWay {
			add(o.Tick, "onset: already under way")
		} else {
			add(o.Tick, "onset")
		}
	}
	return marks
}
