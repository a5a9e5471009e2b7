package rules

import (
	"fmt"
	"slices"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// deviceHolder says how the process holding the time of the device that
// hurts makes the disk wait, when no other rule did: its requests' kinds
// in the block trace (its own synchronous, direct or read requests, the
// writeback of the pages it dirtied, the journal commits and cache
// flushes its syncs force, the writeback its sync() calls force). The
// verdict rests on how the culprit makes the device wait, never on the
// stalls that follow (io-stalls, io-victims, a saturation): this is the
// mechanism when no finding about the culprit names a better one. It
// runs after the other rules (Rule.After) and is the last cause in the
// catalogue.
var deviceHolder = &Rule{ID: "device-holder",
	Role: content.Cause, After: afterDeviceHolder,
	Deciding: [][]Condition{{deviceShareCondition}},
	Watch:    []Watch{WatchProcess},
}

// explains are the roles of findings that say how their subject makes a
// disk wait: a failing device, a cause, a pressure. Volume and effects
// do not.
func explains(r content.Role) bool {
	return r == content.Failure || r == content.Cause || r == content.Pressure
}

func afterDeviceHolder(c *window.Window, found []content.Finding) []content.Finding {
	dev, s, ok := c.DeviceHolder()
	if !ok || s.Process == nil {
		return nil
	}
	pid := s.Task.PID
	for _, f := range found {
		if f.Role == content.Failure || (explains(f.Role) && slices.ContainsFunc(f.Subjects.PIDs, func(p int) bool { return c.SameApp(p, pid) })) {
			return nil
		}
	}
	dt := c.DeviceTimes[dev]
	frac := dt.Fraction(s)
	how, advice := holderMechanism(c, s, dev)
	f := content.Finding{
		ID: "device-holder", Severity: content.Warning, Confidence: content.High, Score: frac * 100,
		Title:    fmt.Sprintf("%s holds %.0f %% of %s's time with %s", c.ShareName(dev, s), frac*100, dev, how),
		Summary:  fmt.Sprintf("%s holds %.0f %% of the time of %s, the device that hurts%s. No other finding names how it loads the device; this is what its requests in the block trace were.", c.ShareName(dev, s), frac*100, dev, window.ShareHow(dt, s)),
		Subjects: content.Subjects{PIDs: []int{pid}, Command: window.Cmdline(s.Process), Device: dev},
		Evidence: []content.Evidence{{Member: c.DeviceTimeSource(),
			What:    fmt.Sprintf("its share of %s's time over %.1f s: %.0f %%%s; its own requests %d, %s caused in all", dev, dt.Seconds, frac*100, window.ShareHow(dt, s), s.Requests, fmt.Sprintf("%.0f", s.CausedRequests)),
			Figures: map[string]float64{FigDeviceSharePct: frac * 100}}},
		Mitigations: advice,
	}
	if s.Process.Container != nil {
		f.Subjects.Container = s.Process.Container.Name
	}
	return []content.Finding{f}
}

// holderMechanism names the largest part of a share as a mechanism, and
// the advice that fits it.
func holderMechanism(c *window.Window, s *model.Share, dev string) (string, []content.Mitigation) {
	p := s.Process
	parts := []struct {
		ns  float64
		how string
	}{
		{s.DirectNS, ownRequestsKind(c, p)},
		{s.WritebackNS, "the writeback of the pages it dirtied (buffered writes)"},
		{s.JournalNS, "the journal commits its synchronous writes force"},
		{s.FlushNS, "the cache flushes that write out its data"},
		{s.StackedNS, "the requests it sends through the device above"},
		{s.ForcedNS, "the writeback of others' pages its sync() calls force"},
	}
	best := 0
	for i, pt := range parts {
		if pt.ns > parts[best].ns {
			best = i
		}
	}
	var ms []content.Mitigation
	switch best {
	case 1:
		ms = append(ms, content.Mitigation{Horizon: content.ShortTerm, Key: advice.BulkWriterKey, Action: "Write it without flooding the page cache", How: bufferedSlowDown(c), Effect: "Writeback keeps pace; dirty memory and the other writers' waits stay low"})
	case 0, 2, 3:
		ms = append(ms, content.Mitigation{Horizon: content.ShortTerm, Key: advice.BufferKey(p), Action: "Reduce or batch what it asks of the device", How: "Fewer, larger requests and fewer syncs: see its trace in the appendix", Effect: "The same work for a fraction of the device's time"})
	}
	if m, ok := advice.SlowDown(c, p, dev); ok {
		ms = append(ms, m)
	}
	return parts[best].how, ms
}

// ownRequestsKind says what a process's own requests were, from how it
// writes (fdinfo flags, trace) and its read and write bytes.
func ownRequestsKind(c *window.Window, p *model.Process) string {
	if pio := c.ByPID[p.PID]; pio != nil && pio.Delta.IO.ReadBytes > pio.Delta.IO.WriteBytes {
		return "its own reads"
	}
	switch _, mode := advice.WriteMode(c, p); mode {
	case "sync":
		return "its own synchronous writes"
	case "direct":
		return "its own direct IO"
	}
	return "its own requests (synchronous writes, direct IO or reads)"
}
