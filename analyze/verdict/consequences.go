package verdict

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/report/content"
)

// linkConsequences marks the stalls, victims and saturation that follow
// from the primary cause, caps their severity at the cause's, and orders
// the findings cause first: the
// primary finding, the other findings in their rank, then the
// consequences.
func (d *Diagnosis) linkConsequences(primary *content.Finding) {
	if primary.Role.Effect() {
		return
	}
	id := primary.ID
	var head, rest, after []content.Finding
	for _, f := range d.Findings {
		switch {
		case f.ID == id && f.Title == primary.Title:
			head = append(head, f)
		case f.Role.Effect() && d.follows(f, primary):
			f.ConsequenceOf = id
			// A consequence never outranks its cause.
			f.Severity = min(f.Severity, primary.Severity)
			f.Summary += fmt.Sprintf(" It follows from %s: %s.", id, strings.TrimSuffix(primary.Title, "."))
			// What relieves it at once is the cause's mitigation.
			f.Mitigations = slices.DeleteFunc(slices.Clone(f.Mitigations), func(m content.Mitigation) bool { return m.Horizon == content.Immediate })
			after = append(after, f)
		default:
			rest = append(rest, f)
		}
	}
	d.Findings = append(append(head, rest...), after...)
}

// orderBySeverity lists the findings severity first: an info finding
// never stands above a warning, whatever its part in the story; at equal
// severity the primary finding, then the rest by role, then the cause's
// consequences.
func (d *Diagnosis) orderBySeverity(primary content.Finding) {
	sort.SliceStable(d.Findings, func(i, j int) bool {
		a, b := &d.Findings[i], &d.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return roleRank(a, primary) < roleRank(b, primary)
	})
}

// roleRank places a finding among those of its severity: the cause's
// own findings, the others by role, the cause's consequences last.
func roleRank(f *content.Finding, primary content.Finding) int {
	switch {
	case f.ID == primary.ID && f.Title == primary.Title:
		return -1
	case f.ConsequenceOf != "":
		return int(content.Neighbour) + 1
	}
	return int(f.Role)
}

// follows reports whether an effect finding is explained by the cause:
// stalls and victims on the device the culprit's writes load, or a
// saturation whose time the culprit holds.
func (d *Diagnosis) follows(f content.Finding, cause *content.Finding) bool {
	cp := d.CulpritProc
	if cp == nil {
		return cause.Limit == content.IOLimit && f.Role != content.Saturation
	}
	c := d.Window
	switch f.Role {
	case content.Saturation, content.Victims:
		return c.DeviceShare(cp.PID, f.Subjects.Device)*100 >= c.Thresholds.DeviceSharePct
	}
	// Stalls: the culprit is among the stalled, or writes to the device
	// the stalled journal serves, or the cause is a limit.
	if slices.Contains(f.Subjects.PIDs, cp.PID) || cause.Limit == content.IOLimit {
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
		if pio := c.ByPID[pid]; pio != nil && ftrace.JournalOf(pio.Proc.Comm, dev) {
			return true
		}
	}
	return false
}
