package verdict

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/units"
	"github.com/iorca/iorca/report/content"
)

// onsetSignal is the per-interval test of the primary cause's condition:
// the hurting device busy or slow, or, with no device, the node's IO
// pressure.
type onsetSignal struct {
	// dev is the device, "" for pressure.
	dev       string
	condition string
	held      func(k int) bool
	// first makes the first interval that held the onset, however
	// rarely it holds after (errors come and go while a device fails).
	first bool
	// eventNS and event are the exact moment (CLOCK_MONOTONIC) and the
	// record the condition began with, when it began during the capture
	// with one (a failing device's first error); 0 and "" otherwise.
	eventNS int64
	event   string
}

// signalOf picks the condition the onset is looked for in, the first
// that ever held of: a failing device's errors (for a failing-device
// verdict); the device the verdict blames (the culprit's device, the
// primary finding's, or the worst hurting one) busy or slow; the
// culprit's own IO at half its average rate or more; the node's PSI.
// It returns the signal with whether it held in each interval (held[k]
// for the interval ending at tick k), each evaluated once.
func (d *Diagnosis) signalOf(culpritDev string, primary *content.Finding) (*onsetSignal, []bool) {
	var sigs []*onsetSignal
	if primary.Role == content.Failure {
		sigs = append(sigs, d.errorSignal(primary.Subjects.Device))
	}
	sigs = append(sigs, d.deviceSignal(culpritDev, primary), d.culpritSignal(primary), d.pressureSignal())
	m := d.Window.Model
	for _, sig := range sigs {
		if sig == nil {
			continue
		}
		held, ever := make([]bool, len(m.Ticks)), false
		for k := 1; k < len(m.Ticks); k++ {
			held[k] = sig.held(k)
			ever = ever || held[k]
		}
		if ever {
			return sig, held
		}
	}
	return nil, nil
}

// errorSignal holds in the intervals in which the kernel logged an error
// about dev, and in the first when it had in the recent_error_s before
// the capture.
func (d *Diagnosis) errorSignal(dev string) *onsetSignal {
	c := d.Window
	m := c.Model
	start := m.Manifest.Start.MonoNS
	recent := int64(c.Thresholds.RecentErrorS * 1e9)
	var at []int64
	earliest, firstNS := int64(0), int64(0)
	var firstText string
	all := m.KernelEvents()
	for _, e := range all {
		// Errors about a device the name was given to before are not
		// this device's (loop names are reused).
		if _, replaced := model.Replaced(all, e); !e.Error() || e.Device != dev || replaced {
			continue
		}
		t := start + int64(e.Offset)
		at = append(at, t)
		if t <= m.Ticks[0].Mono && t >= m.Ticks[0].Mono-recent && (earliest == 0 || t < earliest) {
			earliest = t
		}
		if t > m.Ticks[0].Mono && (firstNS == 0 || t < firstNS) {
			firstNS, firstText = t, e.Record.Text
		}
	}
	cond := "the kernel logged IO errors about " + dev
	sig := &onsetSignal{dev: dev, first: true, condition: cond}
	switch {
	case earliest != 0:
		sig.condition = fmt.Sprintf("the kernel had been logging IO errors about %s, the first of the recent ones %.0f s before the capture", dev, float64(m.Ticks[0].Mono-earliest)/1e9)
	case firstNS != 0:
		sig.eventNS = firstNS
		sig.event = fmt.Sprintf("first IO error about %s (%q); writes to it from then on are lost", dev, firstText)
		if a, ok := model.LastAttach(all, dev); ok && a.Offset < 0 {
			sig.event += fmt.Sprintf("; errors logged before it were about an earlier %s: the name was attached again %.1f s before the capture", dev, -a.Offset.Seconds())
		}
	}
	sig.held =
		func(k int) bool {
			if k == 1 && earliest != 0 {
				return true
			}
			for _, t := range at {
				if t > m.Ticks[k-1].Mono && t <= m.Ticks[k].Mono {
					return true
				}
			}
			return false
		}
	return sig
}

// deviceSignal holds in the intervals in which the blamed device was busy
// or slow.
func (d *Diagnosis) deviceSignal(culpritDev string, primary *content.Finding) *onsetSignal {
	c := d.Window
	m := c.Model
	dev := culpritDev
	if dev == "" {
		dev = primary.Subjects.Device
	}
	if dev == "" {
		if h := c.Hurting(); len(h) > 0 {
			dev = h[0]
		}
	}
	if _, ok := m.Blocks[dev]; dev == "" || !ok {
		return nil
	}
	th := c.Thresholds
	return &onsetSignal{dev: dev,
		condition: fmt.Sprintf("%s was at least %.0f %% busy or its await above %.0f ms", dev, th.UtilPct, th.AwaitMS),
		held: func(k int) bool {
			x, ok := m.DeviceIostat(k-1, k)[dev]
			return ok && (x.Util >= th.UtilPct || (x.Await > th.AwaitMS && x.TPS > 0))
		}}
}

// culpritSignal holds in the intervals in which the culprit's
// application did at least half of its average IO over the capture: its
// read and write calls for a finding about calls, its disk bytes
// otherwise.
func (d *Diagnosis) culpritSignal(primary *content.Finding) *onsetSignal {
	c := d.Window
	m := c.Model
	if d.CulpritProc == nil {
		return nil
	}
	app := c.Apps()[d.CulpritProc.PID]
	if app == nil {
		return nil
	}
	calls := rules.Of(primary).CountsCalls
	measure := func(from, to int) float64 {
		s := m.Seconds(from, to)
		if s <= 0 {
			return 0
		}
		var v int64
		for _, p := range app.Members {
			lo, hi := max(from, p.First), min(to, p.Last)
			a, ok1 := m.PointAt(p, lo)
			b, ok2 := m.PointAt(p, hi)
			if lo >= hi || !ok1 || !ok2 {
				continue
			}
			if calls {
				v += (b.IO.SyscR - a.IO.SyscR) + (b.IO.SyscW - a.IO.SyscW)
			} else {
				v += (b.IO.ReadBytes - a.IO.ReadBytes) + (b.IO.WriteBytes - a.IO.WriteBytes)
			}
		}
		return float64(v) / s
	}
	mean := measure(0, len(m.Ticks)-1)
	if mean <= 0 {
		return nil
	}
	what := "disk bytes (read_bytes + write_bytes)"
	if calls {
		what = "read and write calls (syscr + syscw)"
	}
	return &onsetSignal{
		condition: fmt.Sprintf("PID %d %s made at least half its capture's average rate of %s", app.Main.PID, app.Main.Comm, what),
		held:      func(k int) bool { return measure(k-1, k) >= mean/2 }}
}

// pressureSignal holds in the intervals in which some task waited for IO
// at least PSISomePct of the time.
func (d *Diagnosis) pressureSignal() *onsetSignal {
	c := d.Window
	m := c.Model
	if m.Ticks[0].PSI == nil || m.Ticks[0].PSI.Some == nil {
		return nil
	}
	th := c.Thresholds
	return &onsetSignal{
		condition: fmt.Sprintf("some task waited for IO at least %.0f %% of the time (PSI)", th.PSISomePct),
		held: func(k int) bool {
			some, _, ok := m.PSIShare(k-1, k)
			return ok && some >= th.PSISomePct
		}}
}

// findOnset is the first interval that starts a lasting stretch of the
// condition: it holds there, in at least two of the three intervals from
// there, and in at least half of the intervals from there to the end of
// the capture — a lone bad interval before the incident is not its
// start, a good one inside it does not end it; with first, simply the
// first interval that held. 0 when there is none.
func findOnset(held []bool, first bool) int {
	ticks := len(held)
	n := 0
	for k := 1; k < ticks; k++ {
		if held[k] {
			if first {
				return k
			}
			n++
		}
	}
	// after counts the intervals that held from k to the end.
	after := n
	for k := 1; k < ticks; k++ {
		if !held[k] {
			continue
		}
		near, span := 0, min(3, ticks-k)
		for j := k; j < k+span; j++ {
			if held[j] {
				near++
			}
		}
		if 3*near >= 2*span && 2*after >= ticks-k {
			return k
		}
		after--
	}
	return 0
}

// onset finds when the incident began and what changed then, comparing
// the quiet intervals before it with the ones from it. It returns nil
// when the condition never held.
func (d *Diagnosis) onset(culpritDev string, primary *content.Finding) *content.Onset {
	c := d.Window
	m := c.Model
	if len(m.Ticks) < 3 {
		return nil
	}
	sig, held := d.signalOf(culpritDev, primary)
	if sig == nil {
		return nil
	}
	k := findOnset(held, sig.first)
	if k == 0 {
		return nil
	}
	// Fewer than two quiet intervals before it are no baseline: the first
	// interval of a capture may catch a load still ramping up, or the
	// collector's own start.
	if sig.event != "" {
		// An exact moment in the kernel log: no baseline to compare, and
		// the findings stay over the whole capture (what was written
		// before the first error matters as much as after).
		// Seconds from the capture's start, as the kernel log's times
		// are quoted in the findings ("at +2.0 s").
		start := m.Manifest.Start
		return &content.Onset{Tick: k, Time: start.Wall.Add(time.Duration(sig.eventNS - start.MonoNS)), Seconds: float64(sig.eventNS-start.MonoNS) / 1e9,
			Condition: sig.condition, Event: sig.event}
	}
	o := &content.Onset{Tick: k, Time: m.Ticks[k].Wall, Seconds: m.Seconds(0, k), Condition: sig.condition, UnderWay: k <= 2}
	if o.UnderWay {
		return o
	}
	// The baseline runs to the tick before the onset interval; the
	// incident from there to the end.
	base, last := k-1, len(m.Ticks)-1
	o.BaselineSeconds = m.Seconds(0, base)
	o.WindowFrom = base
	if sig.dev != "" {
		before, after := m.DeviceIostat(0, base)[sig.dev], m.DeviceIostat(base, last)[sig.dev]
		o.Changes = append(o.Changes, fmt.Sprintf("%s: %%util %.0f %% → %.0f %%, await %.1f → %.1f ms, %.0f → %.0f requests/s, %s/s → %s/s written",
			sig.dev, before.Util, after.Util, before.Await, after.Await, before.TPS, after.TPS,
			units.FormatBytes(int64(before.WkBPS*1024)), units.FormatBytes(int64(after.WkBPS*1024))))
	}
	if ch := d.appChange(base, last, sig.dev); ch != "" {
		o.Changes = append(o.Changes, ch)
	}
	return o
}

// appChange names the application whose IO rose most at the onset:
// disk bytes (read_bytes + write_bytes) per second over the baseline and
// over the incident, else write and read syscalls per second. When the
// block trace says who held dev's time, only those applications are
// candidates: a build on the root disk that sped up at the same moment
// is not what changed on a slow data disk.
func (d *Diagnosis) appChange(base, last int, dev string) string {
	c := d.Window
	m := c.Model
	apps := c.Apps()
	var onDev map[*model.App]bool
	if dt := c.DeviceTimes[dev]; dt != nil && !c.DeviceTimesEstimated {
		// The trace says who held the device: an application holding
		// none of it did not change it, however its IO rose elsewhere.
		onDev = map[*model.App]bool{}
		for _, sh := range c.Shares(dev) {
			if sh.Process == nil || dt.Fraction(sh) < minOnsetShare {
				continue
			}
			if app := apps[sh.Process.PID]; app != nil {
				onDev[app] = true
			}
		}
	}
	type rates struct {
		app                  *model.App
		bytesBefore, bytesAt float64
		callsBefore, callsAt float64
		new                  bool
	}
	by := map[*model.App]*rates{}
	add := func(from, to int, at bool) {
		s := m.Seconds(from, to)
		if s <= 0 {
			return
		}
		for _, p := range m.ProcessIO(from, to) {
			if p.Proc.Kernel || p.Proc.Collector {
				continue
			}
			app := apps[p.Proc.PID]
			if app == nil || (onDev != nil && !onDev[app]) {
				continue
			}
			r := by[app]
			if r == nil {
				r = &rates{app: app, new: true}
				by[app] = r
			}
			bytes := float64(p.Delta.IO.ReadBytes+p.Delta.IO.WriteBytes) / s
			calls := float64(p.Delta.IO.SyscR+p.Delta.IO.SyscW) / s
			if at {
				r.bytesAt += bytes
				r.callsAt += calls
			} else {
				r.bytesBefore += bytes
				r.callsBefore += calls
				r.new = r.new && p.Proc.First >= base
			}
		}
	}
	add(0, base, false)
	add(base, last, true)
	var all []*rates
	for _, r := range by {
		all = append(all, r)
	}
	if len(all) == 0 {
		return ""
	}
	// A change is a rise by a quarter or more: a steady writer measured
	// a little higher after the onset did not change then.
	rose := func(before, at float64) float64 {
		if at-before <= 0.25*before {
			return 0
		}
		return at - before
	}
	rise := func(r *rates) float64 { return rose(r.bytesBefore, r.bytesAt) }
	unit, before, at := "of disk IO", func(r *rates) float64 { return r.bytesBefore }, func(r *rates) float64 { return r.bytesAt }
	byRise := func() {
		sort.Slice(all, func(i, j int) bool {
			if rise(all[i]) != rise(all[j]) {
				return rise(all[i]) > rise(all[j])
			}
			return all[i].app.Main.PID < all[j].app.Main.PID
		})
	}
	byRise()
	if rise(all[0]) <= 0 {
		rise = func(r *rates) float64 { return rose(r.callsBefore, r.callsAt) }
		byRise()
		if rise(all[0]) <= 0 {
			return ""
		}
		unit, before, at = "read and write calls", func(r *rates) float64 { return r.callsBefore }, func(r *rates) float64 { return r.callsAt }
	}
	top := all[0]
	name := window.Name(top.app.Main)
	if len(top.app.Members) > 1 {
		name += fmt.Sprintf(", an application of %d processes,", len(top.app.Members))
	}
	format := func(v float64) string {
		if unit == "of disk IO" {
			return units.FormatBytes(int64(math.Round(v))) + "/s"
		}
		return fmt.Sprintf("%.0f/s", v)
	}
	if top.new && before(top) == 0 {
		return fmt.Sprintf("%s started then: %s %s, none before", name, format(at(top)), unit)
	}
	return fmt.Sprintf("%s went from %s to %s %s", name, format(before(top)), format(at(top)), unit)
}

// minOnsetShare is the part of a device's time an application must hold
// to be a candidate for what changed on it at the onset.
const minOnsetShare = 0.05

// triggerMark places the collector's trigger, when one fired, on the
// bundle's ticks.
func triggerMark(m *model.Model) *content.TriggerMark {
	cs := m.Manifest.Capture
	if cs == nil || cs.Trigger == nil || !cs.Trigger.Fired {
		return nil
	}
	t := cs.Trigger
	tm := &content.TriggerMark{Expression: t.Expression, Tick: t.Tick, Time: t.At.Wall}
	if n := len(t.Intervals); n > 0 {
		tm.Figures = t.Intervals[n-1].String()
	}
	return tm
}
