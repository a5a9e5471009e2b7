package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iorca/iorca/analyze/model"
)

// Confidence follows the evidence. A rule sets what it could prove: high
// when it measured the thing it claims (a flag in fdinfo, a traced call,
// a counter), lower when it inferred it (no strace, no block trace).
// gradeConfidence then lowers it where the capture itself is thin or the
// call is close, and says why:
//   - the window: a few seconds, or fewer than three intervals, cannot
//     tell a burst from a trend;
//   - the trace: a claim about sizes or syncs resting on a handful of
//     traced calls;
//   - the margin: the deciding figure only just past its threshold.
//
// The verdict adds the competing explanations (rivalry).

// condition is one test a rule's finding passed: its deciding figure (an
// evidence figure) against a threshold. A figure that is a percentage is
// bounded: its margin is measured against the room left to 100 %.
type condition struct {
	figure    string
	threshold func(Thresholds) float64
	below     bool // the figure must be at most the threshold
	bounded   bool
	what      string
}

// deciding lists, per rule, the conditions its findings passed: every
// group must hold, and within a group any one condition (a sync writer
// is reported for its rate, or for its share of a saturated device).
var deciding = map[string][][]condition{
	"dominant-io-process": {{
		{figure: "share_pct", threshold: func(t Thresholds) float64 { return t.DominantShare * 100 }, bounded: true, what: "share of the node's disk bytes"},
		{figure: "device_share_pct", threshold: func(t Thresholds) float64 { return t.DeviceSharePct }, bounded: true, what: "share of the device's time"},
	}},
	"small-writes": {
		{
			{figure: "writes_per_s", threshold: func(t Thresholds) float64 { return t.SmallWriteMinPerSec }, what: "writes a second"},
			{figure: "device_share_pct", threshold: func(t Thresholds) float64 { return t.DeviceSharePct }, bounded: true, what: "share of the device's time"},
		},
		{{figure: "avg_bytes", threshold: func(t Thresholds) float64 { return t.SmallWriteMaxAvg }, below: true, what: "bytes per write"}},
	},
	"sync-writes": {{
		{figure: "writes_per_s", threshold: func(t Thresholds) float64 { return t.SyncMinPerSec }, what: "synchronous writes a second"},
		{figure: "syncs_per_s", threshold: func(t Thresholds) float64 { return t.SyncMinPerSec }, what: "syncs a second"},
		{figure: "device_share_pct", threshold: func(t Thresholds) float64 { return t.DeviceSharePct }, bounded: true, what: "share of the device's time"},
	}},
	"write-amplification": {{{figure: "ratio", threshold: func(t Thresholds) float64 { return t.AmplificationRatio }, what: "times the bytes written"}}},
	"cpu-cost":            {{{figure: "cpu_pct", threshold: func(t Thresholds) float64 { return t.CPUPct }, what: "% of a CPU"}}},
	"device-saturated": {
		{
			{figure: "util_pct", threshold: func(t Thresholds) float64 { return t.UtilPct }, bounded: true, what: "%util"},
			{figure: "aqu_sz", threshold: func(t Thresholds) float64 { return t.QueueDepth }, what: "requests queued (aqu-sz)"},
		},
		{{figure: "await_ms", threshold: func(t Thresholds) float64 { return t.AwaitMS }, what: "ms await"}},
	},
	"io-stalls": {{
		{figure: "some_pct", threshold: func(t Thresholds) float64 { return t.PSISomePct }, bounded: true, what: "% of the time with a task waiting for IO"},
		{figure: "dstate_pct", threshold: func(t Thresholds) float64 { return t.DStatePct }, bounded: true, what: "% of samples in D state"},
		{figure: "iodelay_pct", threshold: func(t Thresholds) float64 { return t.IODelayPct }, bounded: true, what: "% block-IO delay"},
	}},
	"cgroup-throttle": {{{figure: "use_pct", threshold: func(t Thresholds) float64 { return t.ThrottleUsePct }, bounded: true, what: "% of the limit"}}},
	"dirty-throttling": {{
		{figure: "dirty_share_pct", threshold: func(t Thresholds) float64 { return t.DirtyLimitPct }, bounded: true, what: "% of the dirty limit"},
		// Or seen paused in balance_dirty_pages: a fact, not a margin.
		{figure: "paused_s", threshold: func(Thresholds) float64 { return 0 }, what: "s paused"},
	}},
}

// fromState are the findings about a state (a full filesystem, kernel log
// lines) rather than a rate: a short window does not weaken them.
var fromState = map[string]bool{"fs-full": true, "kernel-io-errors": true}

// tracedCount names, per rule, the evidence figure that counts the traced
// calls a finding rests on.
var tracedCount = map[string]struct{ figure, what string }{
	"small-writes": {"writes", "writes"},
	"sync-writes":  {"sync_after_write", "syncs after a write"},
}

// gradeConfidence lowers each finding's confidence where its evidence is
// thin, with the reason.
func gradeConfidence(c *Context, fs []Finding) {
	for i := range fs {
		f := &fs[i]
		if conf, why, ok := windowDoubt(c, f); ok {
			lower(f, conf, why)
		}
		if why, ok := traceDoubt(c, f); ok {
			lower(f, Medium, why)
		}
		if why, ok := marginDoubt(c, f); ok {
			lower(f, Medium, why)
		}
	}
}

// lower sets a finding's confidence to at most conf, keeping every
// reason that applies at the level it ends at.
func lower(f *Finding, conf Confidence, why string) {
	switch {
	case conf < f.Confidence:
		f.Confidence, f.ConfidenceWhy = conf, why
	case conf == f.Confidence && conf < High && !strings.Contains(f.ConfidenceWhy, why):
		f.ConfidenceWhy = strings.TrimPrefix(f.ConfidenceWhy+"; "+why, "; ")
	}
}

// windowDoubt: rates over a short window.
func windowDoubt(c *Context, f *Finding) (Confidence, string, bool) {
	if fromState[f.ID] {
		return 0, "", false
	}
	intervals := c.To - c.From
	switch {
	case intervals < 2:
		return Low, fmt.Sprintf("one interval of %.1f s: a burst and a steady load look the same", c.Seconds), true
	case intervals < 3 || c.Seconds < c.Thresholds.MinWindowS:
		return Medium, fmt.Sprintf("a %.1f s window of %d intervals: too short to tell a burst from a steady load", c.Seconds, intervals), true
	}
	return 0, "", false
}

// traceDoubt: a claim resting on few traced calls.
func traceDoubt(c *Context, f *Finding) (string, bool) {
	tc, ok := tracedCount[f.ID]
	if !ok || len(f.Subjects.PIDs) == 0 {
		return "", false
	}
	tv := c.Target(f.Subjects.PIDs[0])
	if tv == nil || tv.Target.Info.Strace == nil {
		return "", false
	}
	tr := tv.Target.Info.Strace
	traced, n := false, 0.0
	for _, e := range f.Evidence {
		v, ok := e.Figures[tc.figure]
		if !ok {
			continue
		}
		traced = traced || e.Member == tr.Member
		// An application's finding counts the calls of all its
		// processes (merged).
		n = max(n, v)
	}
	if traced && n < c.Thresholds.MinTraceCalls {
		return fmt.Sprintf("strace saw only %.0f %s in %.1f s", n, tc.what, tr.TracedSeconds), true
	}
	return "", false
}

// marginDoubt: the deciding figure only just past its threshold.
func marginDoubt(c *Context, f *Finding) (string, bool) {
	var close []string
	for _, group := range deciding[f.ID] {
		best, bestText, found := 0.0, "", false
		for _, cond := range group {
			v, ok := evidenceFigure(f, cond.figure)
			if !ok {
				continue
			}
			th := cond.threshold(c.Thresholds)
			m := cond.margin(v, th)
			if !found || m > best {
				best, bestText, found = m, fmt.Sprintf("%s %s against a threshold of %s", fmtFigure(v), cond.what, fmtFigure(th)), true
			}
		}
		if found && best < c.Thresholds.MarginPct/100 {
			close = append(close, bestText)
		}
	}
	if len(close) == 0 {
		return "", false
	}
	return "close to its threshold: " + strings.Join(close, ", "), true
}

// margin is how far v passes the threshold th, as a fraction: of the
// threshold, or for a bounded percentage of the room between it and
// 100 %. Negative when v does not pass (a finding raised for another
// reason in its group).
func (cond condition) margin(v, th float64) float64 {
	switch {
	case cond.below:
		if v <= 0 {
			return 1 // no bytes per write at all: far below any bound
		}
		return th/v - 1
	case cond.bounded && th < 100:
		return (v - th) / (100 - th)
	case th > 0:
		return v/th - 1
	}
	return 1
}

func evidenceFigure(f *Finding, key string) (float64, bool) {
	for _, e := range f.Evidence {
		if v, ok := e.Figures[key]; ok {
			return v, true
		}
	}
	return 0, false
}

// fmtFigure prints a figure with the precision it needs.
func fmtFigure(v float64) string {
	if v == float64(int64(v)) || v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// rival is the competing explanation of a culprit, if any: another
// application holding nearly as much of the device that hurts (RivalShare
// of the culprit's share, the two together DeviceSharePct), or, where no
// device time is known, showing the same cause with nearly the same
// score.
func (d *Diagnosis) rival(primary *Finding, dev string) (string, bool) {
	c := d.Context
	cp := d.CulpritProc
	if cp == nil {
		return "", false
	}
	sameApp := func(pid int) bool { return c.SameApp(pid, cp.PID) }
	if dev == "" {
		// No one holds DeviceSharePct of a hurting device: compare on
		// the first hurting device the culprit loads.
		for _, h := range c.Hurting() {
			if c.ShareOf(cp.PID, h) != nil {
				dev = h
				break
			}
		}
	}
	if dt := c.DeviceTimes[dev]; dev != "" && dt != nil {
		// Contributors are by application already.
		var mine float64
		var best *model.Share
		for _, s := range c.Contributors(dev, len(dt.Shares)) {
			if sameApp(s.Task.PID) {
				mine += dt.Fraction(s)
			} else if best == nil {
				best = s
			}
		}
		// A rival holds nearly the culprit's share, and together they
		// hold enough of the device to be its cause.
		if best != nil && (dt.Fraction(best)+mine)*100 >= c.Thresholds.DeviceSharePct && dt.Fraction(best) >= c.Thresholds.RivalShare*mine {
			return fmt.Sprintf("%s holds %.0f %% of %s's time against the culprit's %.0f %%: both load it", c.shareName(dev, best), dt.Fraction(best)*100, dev, mine*100), true
		}
		return "", false
	}
	for i := range d.Findings {
		f := &d.Findings[i]
		if f.ID != primary.ID || f.Severity < Warning || len(f.Subjects.PIDs) == 0 || sameApp(f.Subjects.PIDs[0]) {
			continue
		}
		if f.Score >= c.Thresholds.RivalShare*primary.Score && !slices.ContainsFunc(f.Subjects.PIDs, sameApp) {
			name := fmt.Sprintf("PID %d", f.Subjects.PIDs[0])
			if pio := c.ByPID[f.Subjects.PIDs[0]]; pio != nil {
				name = Name(pio.Proc)
			}
			return fmt.Sprintf("%s shows the same cause (%s) nearly as strongly, and no device time says which one the device serves more", name, f.ID), true
		}
	}
	return "", false
}
