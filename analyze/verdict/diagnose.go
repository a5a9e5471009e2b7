package verdict

import (
	"slices"
	"sort"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// Diagnosis is the outcome of the rules over a bundle.
type Diagnosis struct {
	Window   *window.Window
	Findings []content.Finding
	Verdict  content.Verdict
	// CulpritProc is the culprit's process (nil without a culprit).
	CulpritProc *model.Process
	// primary is the finding the verdict rests on, culpritDev the device
	// whose time the culprit holds ("" without one).
	primary    content.Finding
	culpritDev string
}

// Diagnose runs the rules and writes the verdict. When the incident began
// during the capture, after quiet intervals, the rules run again over the
// intervals from its onset: rates and shares describe the incident, not
// the incident diluted by the calm before it, and the verdict says when
// it began and what changed then.
func Diagnose(m *model.Model, t window.Thresholds) *Diagnosis {
	d := diagnose(window.New(m, t))
	mark := triggerMark(m)
	d.Verdict.Trigger = mark
	if !d.Verdict.Problem {
		return d
	}
	o := d.onset(d.culpritDev, &d.primary)
	if o != nil && o.WindowFrom > 0 {
		if in := diagnose(window.NewRange(m, t, o.WindowFrom, len(m.Ticks)-1)); in.Verdict.Problem {
			d = in
			d.Verdict.Trigger = mark
		}
	}
	d.Verdict.Onset = o
	return d
}

// diagnose runs the rules over a window and writes the verdict.
func diagnose(c *window.Window) *Diagnosis {
	fs := mergeApps(c, rules.Check(c))
	gradeConfidence(c, fs)
	sortFindings(fs)
	d := &Diagnosis{Window: c, Findings: fs}
	var serious []*content.Finding
	for i := range d.Findings {
		if d.Findings[i].Severity >= content.Warning {
			serious = append(serious, &d.Findings[i])
		}
	}
	if len(serious) == 0 {
		d.Verdict = noProblem(c, d.Findings)
		return d
	}
	var primary *content.Finding
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
	failing := primary.Role == content.Failure
	if dev, pid, ok := deviceCulprit(c); ok && !failing {
		culpritDev = dev
		// An estimate lowers the confidence where it decided: who holds a
		// saturated device (it also made the loudest process a
		// neighbour), or a culprit other than the findings name.
		estimated = c.DeviceTimesEstimated && (len(c.Saturated()) > 0 || len(primary.Subjects.PIDs) == 0 || primary.Subjects.PIDs[0] != pid)
		culpritPID = pid
		var about *content.Finding
		for _, f := range serious {
			// Stalls and victims about the culprit are its waits, not how it
			// makes the disk wait: never the primary of a culprit.
			aboutCulprit := f.Role != content.Victims && f.Role != content.Stall && slices.ContainsFunc(f.Subjects.PIDs, func(p int) bool { return c.SameApp(p, pid) })
			if aboutCulprit || (f.Role == content.Saturation && f.Subjects.Device == dev) {
				if about == nil || (about.Role == content.Saturation && f.Role != content.Saturation) || (f.Role != content.Saturation && better(f, about)) {
					about = f
				}
			}
		}
		if about != nil && !outranked(about, serious) {
			primary = about
		} else if about != nil {
			// A more severe cause about another process (a tmpfs
			// filling beside the syscalls that fill it) leads: the
			// device's holder is not the verdict's culprit.
			culpritPID, culpritDev, estimated = 0, "", false
		}
	}
	d.Verdict = content.Verdict{Problem: true, Confidence: primary.Confidence, ConfidenceWhy: primary.ConfidenceWhy, Primary: primary.ID}
	if estimated {
		d.lowerVerdict(content.Medium, "no block trace: who holds the device's time is estimated from the targets' files, fd flags and sync counts")
	}
	// Stalls, victims and a saturation name who waits or what is busy,
	// not a cause: without one of their own they name no culprit.
	if culpritPID == 0 && len(primary.Subjects.PIDs) > 0 && !primary.Role.Effect() {
		culpritPID = primary.Subjects.PIDs[0]
	}
	if failing {
		// A failing device is the cause, whoever writes to it.
		d.Verdict.Culprit = &content.Culprit{Kind: "device", Device: primary.Subjects.Device}
		culpritPID = 0
	}
	if culpritPID != 0 {
		d.nameCulprit(primary, culpritPID, culpritDev)
	}
	d.primary, d.culpritDev = *primary, culpritDev
	d.Verdict.Summary = d.verdictText(primary, serious)
	if why, ok := d.rival(primary, culpritDev); ok {
		d.lowerVerdict(content.Medium, why)
		d.Verdict.Summary += " But " + why + ", and relieving one alone may not relieve the device."
	}
	p := *primary
	d.linkConsequences(primary)
	d.orderBySeverity(p)
	return d
}

// nameCulprit names the culprit process of the primary finding: its
// application when several of its processes share the load, the limit
// when the cause is one, its container, pod and workload.
func (d *Diagnosis) nameCulprit(primary *content.Finding, pid int, dev string) {
	c := d.Window
	pio := c.ByPID[pid]
	if pio == nil {
		return
	}
	p := pio.Proc
	d.CulpritProc = p
	cp := &content.Culprit{Kind: "process", PID: p.PID, Comm: p.Comm, Cmdline: window.Cmdline(p), Container: primary.Subjects.Container, Pod: primary.Subjects.Pod}
	d.Verdict.Culprit = cp
	// An application's processes share the load: the culprit is the
	// application, named by its main process.
	appShare := false
	if dev != "" {
		if sh := c.ShareOf(pid, dev); sh != nil && c.AppProcesses(dev, sh) > 1 {
			appShare = true
		}
	}
	if (len(primary.Subjects.PIDs) > 1 && rules.Of(primary).PerApp) || appShare {
		if app := c.Apps()[p.PID]; app != nil && len(app.Members) > 1 {
			cp.PID, cp.Comm, cp.Cmdline = app.Main.PID, app.Main.Comm, window.Cmdline(app.Main)
			cp.Processes = len(app.Members)
		}
	}
	if primary.Limit != content.NoLimit {
		// The cause is the limit; the process is who it holds.
		cp.Kind, cp.Limit, cp.LimitKind = "limit", primary.Title, primary.Limit.String()
	}
	if p.Container == nil && cp.Container != "" {
		// A runtime helper (a shim, conmon, dockerd's log driver) is
		// outside the container it names: it serves it.
		cp.Serves = p.RuntimeKind()
	}
	if ct := p.Container; ct != nil {
		if cp.Container == "" {
			cp.Container = ct.Name
		}
		if cp.Pod == "" {
			cp.Pod = ct.Pod
		}
		cp.Image = ct.Image
		if ct.Pod != "" {
			// A shim's -namespace is containerd's (k8s.io), not the
			// pod's: the namespace is kept with a pod only.
			cp.Namespace, cp.Workload = ct.Namespace, model.WorkloadOf(ct.Pod)
		}
	}
}

// outranked reports whether a candidate cause is less severe than
// another finding that may be the cause.
func outranked(f *content.Finding, serious []*content.Finding) bool {
	return slices.ContainsFunc(serious, func(g *content.Finding) bool { return mayLead(g) && g.Severity > f.Severity })
}

// mayLead reports whether a finding's role lets it be the verdict's
// cause: not an effect (a saturation, stalls, victims), not context or
// a neighbour.
func mayLead(f *content.Finding) bool {
	return !f.Role.Effect() && f.Role != content.Background && f.Role != content.Neighbour
}

// better reports whether f is a likelier cause than than: among
// findings that may lead, the more severe (a cause is never less severe
// than another beside it); then an earlier role, then a finding of firm confidence over one of low confidence (a
// burst in one interval, a neighbour's reaped children, is no verdict
// beside a cause seen over the whole capture), then an earlier rule in
// the catalogue, then the more severe.
func better(f, than *content.Finding) bool {
	if than == nil {
		return true
	}
	if mayLead(f) && mayLead(than) && f.Severity != than.Severity {
		return f.Severity > than.Severity
	}
	if f.Role != than.Role {
		return f.Role < than.Role
	}
	if lf, lt := f.Confidence == content.Low, than.Confidence == content.Low; lf != lt {
		return lt
	}
	if a, b := rules.Order(f.ID), rules.Order(than.ID); a != b {
		return a < b
	}
	return f.Severity > than.Severity
}

// sortFindings orders findings by severity, then by score, then by
// catalogue order and subject, so that the order is deterministic.
func sortFindings(fs []content.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if oa, ob := rules.Order(a.ID), rules.Order(b.ID); oa != ob {
			return oa < ob
		}
		return a.Subjects.Path+a.Subjects.Device < b.Subjects.Path+b.Subjects.Device
	})
}

// lowerVerdict lowers the verdict's confidence to at most conf, keeping
// every reason that applies at the level it ends at.
func (d *Diagnosis) lowerVerdict(conf content.Confidence, why string) {
	f := content.Finding{Confidence: d.Verdict.Confidence, ConfidenceWhy: d.Verdict.ConfidenceWhy}
	lower(&f, conf, why)
	d.Verdict.Confidence, d.Verdict.ConfidenceWhy = f.Confidence, f.ConfidenceWhy
}

// deviceCulprit is the user process holding the largest share of the
// time of the device that hurts (window.DeviceHolder).
func deviceCulprit(c *window.Window) (string, int, bool) {
	dev, s, ok := c.DeviceHolder()
	if !ok {
		return "", 0, false
	}
	return dev, s.Task.PID, true
}

// FindingDevice is the device the verdict's finding is about: the one
// it names, else the one whose time the culprit holds ("" when neither).
func (d *Diagnosis) FindingDevice() string {
	if dev := d.primary.Subjects.Device; dev != "" {
		return dev
	}
	return d.culpritDev
}

// culpritDevice is the device whose time the culprit holds, else the
// whole device its hot file lands on, else the busiest device.
func (d *Diagnosis) culpritDevice() (string, model.Iostat, bool) {
	c := d.Window
	// The device whose time it holds: a sync() caller or an msync writer
	// loads a device no write() of its names.
	if x, ok := c.Devices[d.culpritDev]; ok {
		return d.culpritDev, x, true
	}
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
