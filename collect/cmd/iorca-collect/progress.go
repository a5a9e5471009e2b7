package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/collector"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/internal/units"
)

// progressLine rewrites one line on a terminal; elsewhere (a file, a pipe,
// a CI log) it prints nothing, so logs stay clean.
type progressLine struct {
	w       io.Writer
	enabled bool
	width   int
}

func newProgressLine(w io.Writer, quiet bool) *progressLine {
	return &progressLine{w: w, enabled: !quiet && cli.IsTerminal(w)}
}

func (p *progressLine) update(s collector.Progress) {
	if !p.enabled {
		return
	}
	line := formatProgress(s)
	pad := max(0, p.width-len(line))
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

func (p *progressLine) clear() {
	if p.enabled && p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}

// formatProgress is one line: elapsed/total, remaining, ticks, targets;
// while waiting for a trigger or recording, the trigger's last figures.
func formatProgress(s collector.Progress) string {
	switch s.Phase {
	case collector.PhaseWaiting:
		line := fmt.Sprintf("iorca-collect: waiting %s", s.Elapsed.Round(time.Second))
		if s.Duration > 0 {
			line += fmt.Sprintf("/%s", s.Duration)
		}
		return line + triggerStatus(s)
	case collector.PhaseRecording:
		line := fmt.Sprintf("iorca-collect: recording %s, window %s (%s)", s.Elapsed.Round(time.Second), s.Window.Round(time.Second), units.FormatBytes(s.WindowBytes))
		return line + triggerStatus(s)
	}
	remaining := max(0, s.Duration-s.Elapsed)
	line := fmt.Sprintf("iorca-collect: %s/%s (%s left)  tick %d/%d  targets %d",
		s.Elapsed.Round(time.Second), s.Duration, remaining.Round(time.Second), s.Tick, s.Ticks, s.Targets)
	if s.Tracing > 0 {
		line += fmt.Sprintf(" (%d under strace)", s.Tracing)
	}
	return line
}

// intervalFigures formats one trigger interval's figures after a colon.
func intervalFigures(o bundle.TriggerInterval) string {
	if f := o.String(); f != "" {
		return ": " + f
	}
	return ""
}

// triggerStatus is the trigger's last figures and how many intervals in
// a row held, "" without a trigger.
func triggerStatus(s collector.Progress) string {
	if len(s.Trigger.Figures) == 0 {
		return ""
	}
	f := intervalFigures(bundle.TriggerInterval{Device: s.Trigger.Device, Figures: s.Trigger.Figures})
	return fmt.Sprintf("  %s  held %d", strings.TrimPrefix(f, ": "), s.Held)
}

// printSummary tells where the bundle is and what it lacks.
func printSummary(w io.Writer, r *collector.Result) {
	m := r.Manifest
	fmt.Fprintf(w, "iorca-collect: wrote %s (%s, %d members, %d ticks over %s, %d targets)\n",
		r.Path, units.FormatBytes(r.Size), len(m.Members)+1, m.Ticks,
		m.End.Wall.Sub(m.Start.Wall).Round(100*time.Millisecond), len(m.Targets))
	if cs := m.Capture; cs != nil {
		if t := cs.Trigger; t != nil && t.Fired {
			last := bundle.TriggerInterval{}
			if n := len(t.Intervals); n > 0 {
				last = t.Intervals[n-1]
			}
			fmt.Fprintf(w, "  trigger %q fired at %s after %s (tick %d)%s\n", t.Expression, t.At.Wall.UTC().Format("15:04:05"),
				(time.Duration(t.WaitedSeconds * float64(time.Second))).Round(time.Second), t.Tick, intervalFigures(last))
		}
		if rec := cs.Record; rec != nil {
			how := "on the trigger"
			if cs.How == bundle.StartSignal {
				how = "on " + cs.Signal
			}
			fmt.Fprintf(w, "  recorder: %d ticks of its window (%s compressed) written %s, after recording %s\n",
				rec.Ticks, units.FormatBytes(rec.Bytes), how, (time.Duration(rec.RecordedSeconds * float64(time.Second))).Round(time.Second))
		}
	}
	for _, p := range r.Pruned {
		fmt.Fprintf(w, "  removed the older bundle %s (--keep, --keep-bytes)\n", p)
	}
	if r.FellBack {
		fmt.Fprintf(w, "  NOTE: the requested output could not be written (%v); the bundle is at %s instead\n", r.OutputErr, r.Path)
	}
	if m.Partial {
		fmt.Fprintf(w, "  partial: %s\n", m.PartialReason)
	}
	for _, t := range m.Targets {
		line := fmt.Sprintf("  target %d (%s): %s", t.PID, t.Comm, strings.Join(t.Reasons, "; "))
		if s := t.Strace; s != nil {
			line += fmt.Sprintf("; strace %.1fs, %s, stopped by %s", s.TracedSeconds, units.FormatBytes(s.Bytes), s.StopReason)
		}
		fmt.Fprintln(w, line)
	}
	for _, b := range m.Bounds {
		fmt.Fprintf(w, "  bound hit: %s: %s\n", b.Name, b.What)
	}
	if n := len(m.Errors); n > 0 {
		noun := "errors"
		if n == 1 {
			noun = "error"
		}
		fmt.Fprintf(w, "  %d %s recorded in the manifest:\n", n, noun)
		for i, e := range m.Errors {
			if i == 5 {
				fmt.Fprintf(w, "    ... and %d more\n", n-5)
				break
			}
			fmt.Fprintf(w, "    %s: %s\n", e.Status, e.What)
		}
	}
}
