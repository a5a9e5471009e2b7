package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/model"
)

// Diagnosis is the outcome of the rules over a bundle.
type Diagnosis struct {
	Context  *Context
	Findings []Finding
	Verdict  Verdict
	// CulpritProc is the culprit's process (nil without a culprit).
	CulpritProc *model.Process
	// primary is the finding the verdict rests on, culpritDev the device
	// whose time the culprit holds ("" without one).
	primary    Finding
	culpritDev string
}

// primaryOrder ranks the findings that can be the root cause: a failing
// device first; a cause (how something writes, or a limit) before
// pressure with no single writer (swap, dirty throttling), that before
// volume (who moves the most bytes), and volume before an effect (a
// saturated device, stalls, victims).
var primaryOrder = []string{
	"kernel-io-errors", // a failing device, when critical (see rankOf)
	"container-log-flood", "cgroup-throttle", "sync-writes", "small-writes",
	"write-amplification", "overlay-hot-path", "cpu-cost",
	// Pressure with no single writer behind it, before volume.
	"swap-io", "dirty-throttling",
	"dominant-io-process", "device-saturated", "io-stalls", "io-victims",
	"fs-full",
}

// rankOf is a finding's place in primaryOrder. Kernel log findings are a
// cause only when critical (a device failing now); old errors and hung
// tasks are effects or context, ranked last.
func rankOf(f *Finding) int {
	if f.ID == "kernel-io-errors" && f.Severity < Critical {
		return len(primaryOrder)
	}
	for i, id := range primaryOrder {
		if id == f.ID {
			return i
		}
	}
	return len(primaryOrder)
}

// consequences are the findings that are effects of a cause: when the
// verdict has one, they say so and are listed after it.
var consequences = map[string]bool{"io-stalls": true, "io-victims": true, "device-saturated": true}

// Diagnose runs the rules and writes the verdict. When the incident began
// during the capture, after quiet intervals, the rules run again over the
// intervals from its onset: rates and shares describe the incident, not
// the incident diluted by the calm before it, and the verdict says when
// it began and what changed then.
func Diagnose(m *model.Model, t Thresholds) *Diagnosis {
	d := diagnose(NewContext(m, t))
	mark := triggerMark(m)
	d.Verdict.Trigger = mark
	if !d.Verdict.Problem {
		return d
	}
	o := d.onset(d.culpritDev, &d.primary)
	if o != nil && o.WindowFrom > 0 {
		if in := diagnose(NewContextWindow(m, t, o.WindowFrom, len(m.Ticks)-1)); in.Verdict.Problem {
			d = in
			d.Verdict.Trigger = mark
		}
	}
	d.Verdict.Onset = o
	return d
}

// diagnose runs the rules over a context's window and writes the verdict.
func diagnose(c *Context) *Diagnosis {
	d := &Diagnosis{Context: c, Findings: Run(c)}
	c.findings = d.Findings
	var serious []*Finding
	for i := range d.Findings {
		if d.Findings[i].Severity >= Warning {
			serious = append(serious, &d.Findings[i])
		}
	}
	if len(serious) == 0 {
		d.Verdict = noProblem(c)
		return d
	}
	better := func(f, than *Finding) bool {
		return than == nil || rankOf(f) < rankOf(than) || (rankOf(f) == rankOf(than) && f.Severity > than.Severity)
	}
	var primary *Finding
	for _, f := range serious {
		if better(f, primary) {
			primary = f
		}
	}
	// On a saturated device the cause is who holds its time: the best
	// finding about that process, or the saturation itself.
	culpritPID := 0
	estimated := false
	culpritDev := ""
	failing := primary.ID == "kernel-io-errors" && primary.Severity == Critical
	if dev, pid, ok := deviceCulprit(c); ok && !failing {
		culpritDev = dev
		// An estimate lowers the confidence where it decided: who holds a
		// saturated device (it also made the loudest process a
		// neighbour), or a culprit other than the findings name.
		estimated = c.DeviceTimesEstimated && (len(c.Saturated()) > 0 || len(primary.Subjects.PIDs) == 0 || primary.Subjects.PIDs[0] != pid)
		culpritPID = pid
		var about *Finding
		for _, f := range serious {
			if (slices.ContainsFunc(f.Subjects.PIDs, func(p int) bool { return c.SameApp(p, pid) }) && f.ID != "io-victims") || (f.ID == "device-saturated" && f.Subjects.Device == dev) {
				if about == nil || (about.ID == "device-saturated" && f.ID != "device-saturated") || (f.ID != "device-saturated" && better(f, about)) {
					about = f
				}
			}
		}
		if about != nil {
			primary = about
		}
	}
	d.Verdict = Verdict{Problem: true, Confidence: primary.Confidence, ConfidenceWhy: primary.ConfidenceWhy, Primary: primary.ID}
	if estimated {
		d.lowerVerdict(Medium, "no block trace: who holds the device's time is estimated from the targets' files, fd flags and sync counts")
	}
	// Stalls, victims and a saturation name who waits or what is busy,
	// not a cause: without one of their own they name no culprit.
	if culpritPID == 0 && len(primary.Subjects.PIDs) > 0 && !consequences[primary.ID] {
		culpritPID = primary.Subjects.PIDs[0]
	}
	if failing {
		// A failing device is the cause, whoever writes to it.
		d.Verdict.Culprit = &Culprit{Kind: "device", Device: primary.Subjects.Device}
		culpritPID = 0
	}
	if culpritPID != 0 {
		if pio := c.ByPID[culpritPID]; pio != nil {
			p := pio.Proc
			d.CulpritProc = p
			d.Verdict.Culprit = &Culprit{Kind: "process", PID: p.PID, Comm: p.Comm, Cmdline: Cmdline(p), Container: primary.Subjects.Container, Pod: primary.Subjects.Pod}
			// An application's processes share the load: the culprit is
			// the application, named by its main process.
			appShare := false
			if culpritDev != "" {
				if sh := c.ShareOf(culpritPID, culpritDev); sh != nil && c.appSharesOf(culpritDev).members[sh] > 1 {
					appShare = true
				}
			}
			if (len(primary.Subjects.PIDs) > 1 && perProcess[primary.ID]) || appShare {
				if app := c.Apps()[p.PID]; app != nil && len(app.Members) > 1 {
					d.Verdict.Culprit.PID, d.Verdict.Culprit.Comm, d.Verdict.Culprit.Cmdline = app.Main.PID, app.Main.Comm, Cmdline(app.Main)
					d.Verdict.Culprit.Processes = len(app.Members)
				}
			}
			if _, memLimit := evidenceFigure(primary, "limit_bytes"); primary.ID == "cgroup-throttle" || (primary.ID == "swap-io" && memLimit) {
				// The cause is the limit; the process is who it holds.
				d.Verdict.Culprit.Kind, d.Verdict.Culprit.Limit = "limit", primary.Title
			}
			if ct := p.Container; ct != nil {
				cp := d.Verdict.Culprit
				if cp.Container == "" {
					cp.Container = ct.Name
				}
				if cp.Pod == "" {
					cp.Pod = ct.Pod
				}
				cp.Image = ct.Image
				if ct.Pod != "" {
					// A shim's -namespace is containerd's (k8s.io), not
					// the pod's: the namespace is kept with a pod only.
					cp.Namespace, cp.Workload = ct.Namespace, model.WorkloadOf(ct.Pod)
				}
			}
		}
	}
	d.primary, d.culpritDev = *primary, culpritDev
	d.Verdict.Summary = d.verdictText(primary, serious)
	if why, ok := d.rival(primary, culpritDev); ok {
		d.lowerVerdict(Medium, why)
		d.Verdict.Summary += " But " + why + ", and relieving one alone may not relieve the device."
	}
	d.linkConsequences(primary)
	return d
}

// lowerVerdict lowers the verdict's confidence to at most conf, keeping
// every reason that applies at the level it ends at.
func (d *Diagnosis) lowerVerdict(conf Confidence, why string) {
	f := Finding{Confidence: d.Verdict.Confidence, ConfidenceWhy: d.Verdict.ConfidenceWhy}
	lower(&f, conf, why)
	d.Verdict.Confidence, d.Verdict.ConfidenceWhy = f.Confidence, f.ConfidenceWhy
}

// linkConsequences marks the stalls, victims and saturation that follow
// from the primary cause, and orders the findings cause first: the
// primary finding, the other findings in their rank, then the
// consequences.
func (d *Diagnosis) linkConsequences(primary *Finding) {
	if consequences[primary.ID] {
		return
	}
	id := primary.ID
	var head, rest, after []Finding
	for _, f := range d.Findings {
		switch {
		case f.ID == id && f.Title == primary.Title:
			head = append(head, f)
		case consequences[f.ID] && f.Severity >= Warning && d.follows(f, primary):
			f.ConsequenceOf = id
			f.Summary += fmt.Sprintf(" It follows from %s: %s.", id, strings.TrimSuffix(primary.Title, "."))
			// What relieves it at once is the cause's mitigation.
			f.Mitigations = slices.DeleteFunc(slices.Clone(f.Mitigations), func(m Mitigation) bool { return m.Horizon == Immediate })
			after = append(after, f)
		default:
			rest = append(rest, f)
		}
	}
	d.Findings = append(append(head, rest...), after...)
}

// follows reports whether an effect finding is explained by the cause:
// stalls and victims on the device the culprit's writes load, or a
// saturation whose time the culprit holds.
func (d *Diagnosis) follows(f Finding, cause *Finding) bool {
	cp := d.CulpritProc
	if cp == nil {
		return cause.ID == "cgroup-throttle" && f.ID != "device-saturated"
	}
	c := d.Context
	switch f.ID {
	case "device-saturated":
		return c.DeviceShare(cp.PID, f.Subjects.Device)*100 >= c.Thresholds.DeviceSharePct
	case "io-victims":
		return c.DeviceShare(cp.PID, f.Subjects.Device)*100 >= c.Thresholds.DeviceSharePct
	}
	// io-stalls: the culprit is among the stalled, or writes to the
	// device the stalled journal serves, or the cause is a limit.
	if slices.Contains(f.Subjects.PIDs, cp.PID) || cause.ID == "cgroup-throttle" {
		return true
	}
	dev, _, ok := d.culpritDevice()
	if !ok {
		return false
	}
	// Node-wide pressure with no task named: the culprit's device is the
	// busiest one, so its waits are the pressure.
	if busiest, _, ok := c.BusiestDevice(); ok && len(f.Subjects.PIDs) == 0 && busiest == dev {
		return true
	}
	for _, pid := range f.Subjects.PIDs {
		if pio := c.ByPID[pid]; pio != nil && strings.HasPrefix(pio.Proc.Comm, "jbd2/"+dev) {
			return true
		}
	}
	return false
}

// deviceCulprit is the user process holding the largest share of the
// time of the device that hurts (c.Hurting), when that share reaches
// DeviceSharePct.
func deviceCulprit(c *Context) (string, int, bool) {
	for _, dev := range c.Hurting() {
		top := c.Contributors(dev, 1)
		if len(top) == 0 || c.ByPID[top[0].Task.PID] == nil {
			continue
		}
		if c.DeviceTimes[dev].Fraction(top[0])*100 >= c.Thresholds.DeviceSharePct {
			return dev, top[0].Task.PID, true
		}
	}
	return "", 0, false
}

// related returns the serious findings about the culprit, in a fixed order.
func (d *Diagnosis) related(primary *Finding, serious []*Finding) map[string]*Finding {
	out := map[string]*Finding{}
	if d.CulpritProc == nil {
		return out
	}
	pids := map[int]bool{d.CulpritProc.PID: true}
	if primary.ID != "device-saturated" {
		for _, p := range primary.Subjects.PIDs {
			pids[p] = true
		}
	}
	for _, f := range serious {
		if f == primary {
			continue
		}
		if f.ID == "io-victims" || f.ID == "device-saturated" {
			continue // the victims are not the culprit; the device has its own clause
		}
		for _, p := range f.Subjects.PIDs {
			if pids[p] && out[f.ID] == nil {
				out[f.ID] = f
			}
		}
	}
	return out
}

func (d *Diagnosis) verdictText(primary *Finding, serious []*Finding) string {
	var b strings.Builder
	rel := d.related(primary, serious)
	b.WriteString(primary.Summary)
	// How the culprit writes.
	if f := rel["small-writes"]; f != nil {
		fmt.Fprintf(&b, " It writes %s in %s-byte pieces, %s times a second.", f.Subjects.Path, figure(f, "avg_bytes", "%.0f"), figure(f, "writes_per_s", "%.0f"))
	}
	if f := rel["sync-writes"]; f != nil {
		fmt.Fprintf(&b, " %s.", f.Title)
	}
	if f := rel["write-amplification"]; f != nil && f.Severity >= Warning {
		if figure(f, "requests_per_write", "%.1f") != "?" {
			fmt.Fprintf(&b, " Each write costs the device %s requests and %s bytes (its data, journal commits and cache flushes, from the block trace).", figure(f, "requests_per_write", "%.1f"), figure(f, "device_bytes_per_write", "%.0f"))
		} else {
			fmt.Fprintf(&b, " Each small write costs a whole page: the disk writes %s times the bytes it is handed (write_bytes/wchar).", figure(f, "ratio", "%.0f"))
		}
	}
	if f := rel["overlay-hot-path"]; f != nil {
		fmt.Fprintf(&b, " %s.", f.Title)
	}
	if f := rel["cpu-cost"]; f != nil {
		fmt.Fprintf(&b, " It spends %s of a CPU on it.", figure(f, "cpu_pct", "%.0f %%"))
	}
	if rel["small-writes"] == nil && rel["sync-writes"] == nil {
		b.WriteString(d.largeWritesClause())
	}
	// The device.
	var devFinding *Finding
	for _, f := range serious {
		if f.ID == "device-saturated" {
			devFinding = f
			break
		}
	}
	switch {
	case devFinding != nil && primary.ID != "device-saturated":
		fmt.Fprintf(&b, " %s is saturated (%%util %s, await %s ms)", devFinding.Subjects.Device, figure(devFinding, "util_pct", "%.0f"), figure(devFinding, "await_ms", "%.1f"))
		if cp := d.CulpritProc; cp != nil {
			if dt := d.Context.DeviceTimes[devFinding.Subjects.Device]; dt != nil {
				if s := d.Context.ShareOf(cp.PID, devFinding.Subjects.Device); s != nil && dt.Fraction(s) > 0 {
					fmt.Fprintf(&b, ", and %s holds %.0f %% of its time%s", d.Context.shareName(devFinding.Subjects.Device, s), dt.Fraction(s)*100, shareHow(dt, s))
				}
			}
		}
		b.WriteString(".")
	case devFinding == nil && primary.ID != "cgroup-throttle":
		c := d.Context
		if name, x, ok := d.culpritDevice(); ok {
			// Thresholds decide severities and alerts; the words describe
			// the device as it was.
			fmt.Fprintf(&b, " The device %s was busy %.0f %% of the time, its requests took %.1f ms on average with %.1f queued", name, x.Util, x.Await, x.AquSz)
			if x.Util >= 0.9*c.Thresholds.UtilPct || x.Await >= 0.9*c.Thresholds.AwaitMS {
				b.WriteString(", close to saturation")
			}
			if rel["sync-writes"] != nil || (rel["small-writes"] != nil && rel["write-amplification"] != nil) {
				b.WriteString(": the cost is in operations and latency for everything that shares it, not in bandwidth")
			}
			b.WriteString(".")
		}
	}
	// Who waited, and who was loud elsewhere.
	for _, f := range d.Findings {
		switch {
		case f.ID == "io-victims" && (d.CulpritProc == nil || !slices.Contains(f.Subjects.PIDs, d.CulpritProc.PID)):
			var who []string
			for _, e := range f.Evidence {
				who = append(who, e.What)
			}
			fmt.Fprintf(&b, " Waiting for %s: %s.", f.Subjects.Device, strings.Join(who, "; "))
		case f.ID == "dominant-io-process" && f.Severity == Info && strings.HasPrefix(f.Title, "Neighbour: "):
			fmt.Fprintf(&b, " %s. It holds %s %% of %s's time: a neighbour, not the cause.", strings.TrimPrefix(f.Title, "Neighbour: "), figure(&f, "device_share_pct", "%.0f"), devFinding.Subjects.Device)
		}
	}
	// The rest.
	var others []string
	seen := map[*Finding]bool{primary: true, devFinding: true}
	for _, f := range serious {
		if f.ID == "io-victims" {
			seen[f] = true
		}
	}
	for _, f := range rel {
		seen[f] = true
	}
	var effects []string
	for _, f := range serious {
		if seen[f] {
			continue
		}
		seen[f] = true
		if !consequences[primary.ID] && consequences[f.ID] && d.follows(*f, primary) {
			effects = append(effects, f.ID)
			continue
		}
		others = append(others, f.ID)
	}
	sort.Strings(effects)
	sort.Strings(others)
	if len(effects) > 0 {
		fmt.Fprintf(&b, " It leads to: %s.", strings.Join(effects, ", "))
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, " Also found: %s.", strings.Join(others, ", "))
	}
	return b.String()
}

// largeWritesClause describes a culprit that writes in large, buffered
// pieces (a backup, a copy): the page cache absorbs them.
func (d *Diagnosis) largeWritesClause() string {
	if d.CulpritProc == nil {
		return ""
	}
	tv := d.Context.Target(d.CulpritProc.PID)
	if tv == nil || tv.Summary == nil {
		return ""
	}
	for _, f := range tv.Summary.Files {
		if f.Kind != "file" || f.Writes == 0 {
			continue
		}
		if f.Syncs > 0 || f.AvgWrite() < d.Context.Thresholds.SmallWriteMaxAvg {
			return ""
		}
		for _, fd := range tv.Target.FDs {
			if fd.Path != f.Path || fd.Info == nil {
				continue
			}
			if fd.Info.Flags.Sync() || fd.Info.Flags.DSync() {
				return ""
			}
			if fd.Info.Flags.Direct(d.Context.Model.Manifest.Host.Arch) {
				return fmt.Sprintf(" It writes %s with O_DIRECT in %s pieces: they bypass the page cache and go to the device at once.", f.Path, human(f.AvgWrite()))
			}
		}
		return fmt.Sprintf(" It writes %s in large buffered pieces (%s on average, no O_SYNC, no fsync): the page cache absorbs them and writeback sends them to the device later%s.", f.Path, human(f.AvgWrite()), d.dirtyGrowth())
	}
	return ""
}

// dirtyGrowth says how the dirty page cache moved over the window.
func (d *Diagnosis) dirtyGrowth() string {
	c := d.Context
	a, b := c.Model.Ticks[c.From].Vmstat, c.Model.Ticks[c.To].Vmstat
	if a == nil || b == nil || b["nr_dirty_threshold"] == 0 {
		return ""
	}
	page := c.pageSize()
	return fmt.Sprintf(" (dirty page cache went from %s to %s, %.0f %% of the dirty limit)",
		human(float64(a["nr_dirty"])*page), human(float64(b["nr_dirty"])*page), pct(float64(b["nr_dirty"]+b["nr_writeback"]), float64(b["nr_dirty_threshold"])))
}

// culpritDevice is the whole device the culprit's hot file lands on, or
// the busiest device.
func (d *Diagnosis) culpritDevice() (string, model.Iostat, bool) {
	c := d.Context
	if d.CulpritProc != nil {
		tv := c.Target(d.CulpritProc.PID)
		if pl, ok := c.Place(tv, c.HotFile(tv)); ok {
			if x, ok := c.Devices[pl.Device]; ok {
				return pl.Device, x, true
			}
		}
	}
	return c.BusiestDevice()
}

// BusiestDevice is the whole device with the highest %util over the
// window (the most bytes among equals).
func (c *Context) BusiestDevice() (string, model.Iostat, bool) {
	var names []string
	for n := range c.Devices {
		names = append(names, n)
	}
	sort.Strings(names)
	best, found := "", false
	var bx model.Iostat
	for _, n := range names {
		x := c.Devices[n]
		if !found || x.Util > bx.Util || (x.Util == bx.Util && x.RkBPS+x.WkBPS > bx.RkBPS+bx.WkBPS) {
			best, bx, found = n, x, true
		}
	}
	return best, bx, found
}

func figure(f *Finding, key, format string) string {
	for _, e := range f.Evidence {
		if v, ok := e.Figures[key]; ok {
			return fmt.Sprintf(format, v)
		}
	}
	return "?"
}

// noProblem writes the verdict of a node without an IO problem, with the
// figures that show it.
func noProblem(c *Context) Verdict {
	v := Verdict{Summary: "No IO problem found.", Confidence: High}
	if len(c.Model.Ticks) < 2 {
		v.Summary = "No IO problem found, but the bundle has fewer than two ticks: no rate could be computed."
		v.Confidence = Low
		return v
	}
	var parts []string
	if name, x, ok := c.BusiestDevice(); ok {
		parts = append(parts, fmt.Sprintf("the busiest device, %s, was %.1f %% busy with %.2f ms await", name, x.Util, x.Await))
	}
	parts = append(parts, fmt.Sprintf("processes caused %s/s of writes (write_bytes) and read %s/s from disk in all", human(float64(c.UserWriteBytes)/c.Seconds), human(float64(c.UserDiskBytes-c.UserWriteBytes)/c.Seconds)))
	first := c.Model.Ticks[c.From]
	if some, _, ok := c.Model.PSIShare(c.From, c.To); ok {
		parts = append(parts, fmt.Sprintf("some task waited for IO %.1f %% of the time", some))
	} else {
		v.Confidence = Medium
	}
	v.Summary = fmt.Sprintf("No IO problem found. Over %.0f s %s.", c.Seconds, strings.Join(parts, "; "))
	// A quiet capture is not a healthy node: PSI's 5-minute average at
	// the start says whether tasks waited before the capture.
	if first.PSI != nil && first.PSI.Some != nil && first.PSI.Some.Avg300 >= c.Thresholds.PSISomePct/2 {
		v.Summary = fmt.Sprintf("No IO problem now: over %.0f s %s. But some task waited for IO %.1f %% of the 5 minutes before the capture (PSI avg300; avg60 %.1f at its start): the problem came before it. Collect again while it happens.",
			c.Seconds, strings.Join(parts, "; "), first.PSI.Some.Avg300, first.PSI.Some.Avg60)
		v.Confidence, v.ConfidenceWhy = Medium, "quiet during the capture, with IO pressure in the minutes before it"
	}
	// What is loud but harmless now, with when it may not be.
	for _, f := range c.infoFindings("dominant-io-process") {
		v.Summary += " " + f.Summary
	}
	if denied := deniedNames(c); denied != "" {
		v.Summary += " The IO counters of " + denied + " could not be read."
	}
	if c.Model.Manifest.Partial {
		v.Confidence = Medium
	}
	return v
}

// deniedNames names the processes whose /proc/PID/io was denied.
func deniedNames(c *Context) string {
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
	return joinAnd(names)
}

// infoFindings are the info-level findings of an id, once the rules ran.
func (c *Context) infoFindings(id string) []Finding {
	var out []Finding
	for _, f := range c.findings {
		if f.ID == id && f.Severity == Info {
			out = append(out, f)
		}
	}
	return out
}
