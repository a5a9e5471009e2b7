package verdict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// content.Confidence follows the evidence. A rule sets what it could prove: high
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

// gradeConfidence lowers each finding's confidence where its evidence is
// thin, with the reason.
func gradeConfidence(c *window.Window, fs []content.Finding) {
	for i := range fs {
		f := &fs[i]
		if conf, why, ok := windowDoubt(c, f); ok {
			lower(f, conf, why)
		}
		if why, ok := traceDoubt(c, f); ok {
			lower(f, content.Medium, why)
		}
		if why, ok := marginDoubt(c, f); ok {
			lower(f, content.Medium, why)
		}
		if why, ok := lostDoubt(c, f); ok {
			lower(f, content.Medium, why)
		}
	}
}

// lower sets a finding's confidence to at most conf, keeping every
// reason that applies at the level it ends at.
func lower(f *content.Finding, conf content.Confidence, why string) {
	switch {
	case conf < f.Confidence:
		f.Confidence, f.ConfidenceWhy = conf, why
	case conf == f.Confidence && conf < content.High && !strings.Contains(f.ConfidenceWhy, why):
		f.ConfidenceWhy = strings.TrimPrefix(f.ConfidenceWhy+"; "+why, "; ")
	}
}

// windowDoubt: rates over a short window.
func windowDoubt(c *window.Window, f *content.Finding) (content.Confidence, string, bool) {
	if rules.Of(f).FromState {
		return 0, "", false
	}
	intervals := c.To - c.From
	switch {
	case intervals < 2:
		return content.Low, fmt.Sprintf("one interval of %.1f s: a burst and a steady load look the same", c.Seconds), true
	case intervals < 3 || c.Seconds < c.Thresholds.MinWindowS:
		return content.Medium, fmt.Sprintf("a %.1f s window of %d intervals: too short to tell a burst from a steady load", c.Seconds, intervals), true
	}
	return 0, "", false
}

// traceDoubt: a claim resting on few traced calls.
func traceDoubt(c *window.Window, f *content.Finding) (string, bool) {
	tc := rules.Of(f).Traced
	if tc == nil || len(f.Subjects.PIDs) == 0 {
		return "", false
	}
	tv := c.Target(f.Subjects.PIDs[0])
	if tv == nil || tv.Target.Info.Strace == nil {
		return "", false
	}
	tr := tv.Target.Info.Strace
	traced, n := false, 0.0
	for _, e := range f.Evidence {
		v, ok := e.Figures[tc.Figure]
		if !ok {
			continue
		}
		traced = traced || e.Member == tr.Member
		// An application's finding counts the calls of all its
		// processes (merged).
		n = max(n, v)
	}
	if traced && n < c.Thresholds.MinTraceCalls {
		return fmt.Sprintf("strace saw only %.0f %s in %.1f s", n, tc.What, tr.TracedSeconds), true
	}
	return "", false
}

// lostDoubt: a finding resting on a block trace that lost more than
// MaxLostPct of its events (the reader fell behind a burst).
func lostDoubt(c *window.Window, f *content.Finding) (string, bool) {
	bt := c.Model.BlockTrace
	if bt == nil || bt.LostShare()*100 <= maxLostPct {
		return "", false
	}
	for _, e := range f.Evidence {
		if strings.Contains(e.Member, bundle.BlockTraceMember) {
			return fmt.Sprintf("the block trace lost %.1f %% of its events (the reader fell behind): its device times read low", bt.LostShare()*100), true
		}
	}
	return "", false
}

// maxLostPct is the share of lost block-trace events past which findings
// resting on it are at most of medium confidence: one event in a
// hundred can miss a whole burst's requests.
const maxLostPct = 1

// marginDoubt: the deciding figure only just past its threshold.
func marginDoubt(c *window.Window, f *content.Finding) (string, bool) {
	var close []string
	for _, group := range rules.Of(f).Deciding {
		best, bestText, found := 0.0, "", false
		for _, cond := range group {
			v, ok := f.Figure(cond.Figure)
			if !ok {
				continue
			}
			th := cond.Threshold(c.Thresholds)
			m := cond.Margin(v, th)
			if !found || m > best {
				best, bestText, found = m, fmt.Sprintf("%s %s against a threshold of %s", fmtFigure(v), cond.What, fmtFigure(th)), true
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
func (d *Diagnosis) rival(primary *content.Finding, dev string) (string, bool) {
	c := d.Window
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
			return fmt.Sprintf("%s holds %.0f %% of %s's time against the culprit's %.0f %%: both load it", c.ShareName(dev, best), dt.Fraction(best)*100, dev, mine*100), true
		}
		return "", false
	}
	for i := range d.Findings {
		f := &d.Findings[i]
		if f.ID != primary.ID || f.Severity < content.Warning || len(f.Subjects.PIDs) == 0 || sameApp(f.Subjects.PIDs[0]) {
			continue
		}
		if f.Score >= c.Thresholds.RivalShare*primary.Score && !slices.ContainsFunc(f.Subjects.PIDs, sameApp) {
			name := fmt.Sprintf("PID %d", f.Subjects.PIDs[0])
			if pio := c.ByPID[f.Subjects.PIDs[0]]; pio != nil {
				name = window.Name(pio.Proc)
			}
			return fmt.Sprintf("%s shows the same cause (%s) nearly as strongly, and no device time says which one the device serves more", name, f.ID), true
		}
	}
	return "", false
}
