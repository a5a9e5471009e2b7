package verdict

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// noProblem writes the verdict of a node without an IO problem, with the
// figures that show it.
func noProblem(c *window.Window, findings []content.Finding) content.Verdict {
	v := content.Verdict{Summary: "No IO problem found.", Confidence: content.High}
	if len(c.Model.Ticks) < 2 && c.Model.Salvaged != nil {
		return ticksLost(c)
	}
	if len(c.Model.Ticks) < 2 {
		v.Summary = "No IO problem found, but the bundle has fewer than two ticks: no rate could be computed."
		v.Confidence = content.Low
		return v
	}
	var parts []string
	if name, x, ok := c.BusiestDevice(); ok {
		parts = append(parts, fmt.Sprintf("the busiest device, %s, was %.1f %% busy with %.2f ms await", name, x.Util, x.Await))
	}
	parts = append(parts, fmt.Sprintf("processes caused %s/s of writes (write_bytes) and read %s/s from disk in all", prose.Bytes(float64(c.UserWriteBytes)/c.Seconds), prose.Bytes(float64(c.UserDiskBytes-c.UserWriteBytes)/c.Seconds)))
	first := c.Model.Ticks[c.From]
	if some, _, ok := c.Model.PSIShare(c.From, c.To); ok {
		parts = append(parts, fmt.Sprintf("some task waited for IO %.1f %% of the time", some))
	} else {
		v.Confidence = content.Medium
	}
	v.Summary = fmt.Sprintf("No IO problem found. Over %.0f s %s.", c.Seconds, strings.Join(parts, "; "))
	// A quiet capture is not a healthy node: PSI's 5-minute average at
	// the start says whether tasks waited before the capture.
	if first.PSI != nil && first.PSI.Some != nil && first.PSI.Some.Avg300 >= c.Thresholds.PSISomePct/2 {
		// The advice comes first: it is what the verdict's short form
		// (at most 70 words) must keep.
		v.Summary = fmt.Sprintf("No IO problem during the capture, but some task waited for IO %.1f %% of the 5 minutes before it (PSI avg300; avg60 %.1f at its start): collect again while it happens, or leave the collector's flight recorder running (--record with a --trigger on IO pressure) to keep the minute before the next one. Over %.0f s %s.",
			first.PSI.Some.Avg300, first.PSI.Some.Avg60, c.Seconds, strings.Join(parts, "; "))
		v.Confidence, v.ConfidenceWhy = content.Medium, "quiet during the capture, with IO pressure in the minutes before it"
	}
	// What is loud but harmless now, with when it may not be.
	for _, f := range findings {
		if f.Severity == content.Info && (f.Role == content.Volume || f.Role == content.Neighbour) {
			v.Summary += " " + f.Summary
		}
	}
	if denied := deniedNames(c); denied != "" {
		v.Summary += " The IO counters of " + denied + " could not be read."
	}
	if c.Model.Manifest.Partial {
		v.Confidence = content.Medium
	}
	return v
}

// ticksLost is the verdict of a salvaged bundle whose damage left fewer
// than two ticks: without rates no rule can judge, so it claims neither a
// problem nor its absence, and says what of the targets' traces survived.
func ticksLost(c *window.Window) content.Verdict {
	sv := c.Model.Salvaged
	v := content.Verdict{Confidence: content.Low, ConfidenceWhy: "the damage left fewer than two ticks"}
	survived := "no tick survived the damage to the bundle"
	if sv.TicksRead == 1 {
		survived = "one tick survived the damage to the bundle, and rates need two"
	}
	v.Summary = fmt.Sprintf("No verdict: %s (%d of %d read), so rates are unknown: neither how busy the disks were nor who did the IO can be told.", survived, sv.TicksRead, sv.TicksListed)
	if traces := survivingTraces(c); traces != "" {
		v.Summary += " The targets' traces that were read: " + traces + "."
	}
	v.Summary += " Ask for the bundle again, whole."
	return v
}

// survivingTraces names each target whose trace was read, with its most
// frequent calls: what a salvage without ticks still shows of the IO.
func survivingTraces(c *window.Window) string {
	var parts []string
	for _, tg := range c.Model.Targets {
		s := tg.Summary()
		if s == nil || len(s.Syscalls) == 0 {
			continue
		}
		var calls []string
		for _, st := range s.Syscalls[:min(3, len(s.Syscalls))] {
			calls = append(calls, fmt.Sprintf("%d %s", st.Calls, st.Name))
		}
		parts = append(parts, fmt.Sprintf("PID %d (%s) made %s in %.0f s", tg.Info.PID, tg.Info.Comm, strings.Join(calls, ", "), s.Seconds))
	}
	return strings.Join(parts, "; ")
}

// deniedNames names the processes whose /proc/PID/io was denied.
func deniedNames(c *window.Window) string {
	var pids []int
	for pid := range c.Model.DeniedIO {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	var names []string
	for _, pid := range pids {
		name := fmt.Sprintf("PID %d", pid)
		for _, p := range c.Model.Procs {
			if p.PID == pid {
				name = fmt.Sprintf("PID %d (%s)", pid, p.Comm)
			}
		}
		names = append(names, name)
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("%d more", len(names)-5))
	}
	return prose.JoinAnd(names)
}
