package rules

import (
	"slices"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// Rule is one check over the window and everything the verdict and the
// report need to know about its findings. A rule is one place: adding a
// finding is its file, its test and its line in Rules.
type Rule struct {
	ID string
	// Role is its findings' part in the verdict (a finding may be given
	// another: kernel errors are a Failure only while the device fails).
	Role content.Role
	// Check finds what the rule is about in a window.
	Check func(*window.Window) []content.Finding
	// After, for a rule that completes the others, runs once every Check
	// has, with their findings.
	After func(*window.Window, []content.Finding) []content.Finding
	// PerApp merges the same finding about several processes of one
	// application into one finding about the application.
	PerApp bool
	// CountsCalls says the rule is about how many calls a process makes,
	// not how many bytes reach the disk: the onset of its culprit is
	// looked for in read and write calls (syscr + syscw).
	CountsCalls bool
	// FromState says its findings describe a state (a full filesystem,
	// kernel log lines), not a rate: a short window does not weaken them.
	FromState bool
	// Deciding lists the conditions its findings passed, for confidence:
	// every group must hold, and within a group any one condition (a sync
	// writer is reported for its rate, or for its share of a saturated
	// device).
	Deciding [][]Condition
	// Traced names the evidence figure that counts the traced calls a
	// finding rests on (nil when none does).
	Traced *Traced
	// Shows is what its findings say about how the culprit writes.
	Shows Trait
	// Clause is what one of its findings adds to a verdict about another
	// finding's culprit (nil: nothing).
	Clause func(f *content.Finding) string
	// Watch are the metrics and alerts its findings call for.
	Watch []Watch
}

// Traced is an evidence figure that counts traced calls, and what they
// are.
type Traced struct{ Figure, What string }

// Trait is what a finding shows about how its culprit writes.
type Trait int

// Traits, combined with |.
const (
	// Syncs: it waits for stable storage (O_SYNC, O_DSYNC, fsync).
	Syncs Trait = 1 << iota
	// SmallPieces: it writes in pieces smaller than a page.
	SmallPieces
	// Amplified: the device writes many times what it is handed.
	Amplified
)

// Rules is the catalogue, in the order the verdict weighs findings of
// the same role (the first is the likelier cause) and in which equal
// findings are listed. Their ids are stable: reports, JSON consumers and
// regression tests rely on them.
var Rules = []*Rule{
	kernelIOErrors,
	containerLogFlood,
	cgroupThrottle,
	logRotation,
	fileByFileSync,
	syncWrites,
	mmapMsync,
	syncCaller,
	smallWrites,
	writeAmplification,
	overlayHotPath,
	cpuCost,
	metadataScan,
	deviceHolder,
	swapIO,
	dirtyThrottling,
	dominantIOProcess,
	deviceSaturated,
	ioStalls,
	ioVictims,
	fsFull,
	tmpfsFilling,
}

// byID indexes Rules.
var byID = func() map[string]*Rule {
	m := make(map[string]*Rule, len(Rules))
	for _, r := range Rules {
		m[r.ID] = r
	}
	return m
}()

// Of is the rule that made a finding.
func Of(f *content.Finding) *Rule {
	if r := byID[f.ID]; r != nil {
		return r
	}
	return &Rule{ID: f.ID}
}

// Order is a rule's place in the catalogue (len(Rules) for an unknown
// id).
func Order(id string) int {
	for i, r := range Rules {
		if r.ID == id {
			return i
		}
	}
	return len(Rules)
}

// Check runs every rule over the window, in catalogue order, each
// finding given its rule's role unless the rule gave it one. A window of
// fewer than two ticks has no rates and gives no finding.
func Check(c *window.Window) []content.Finding {
	if len(c.Model.Ticks) < 2 {
		return nil
	}
	var out []content.Finding
	role := func(r *Rule, fs []content.Finding) []content.Finding {
		for i := range fs {
			if fs[i].Role == content.NoRole {
				fs[i].Role = r.Role
			}
			// A title or summary may begin with a process's name, which
			// for a reaper's children is "the group of ...".
			fs[i].Title, fs[i].Summary = prose.Sentence(fs[i].Title), prose.Sentence(fs[i].Summary)
		}
		return fs
	}
	for _, r := range Rules {
		if r.Check != nil {
			out = append(out, role(r, r.Check(c))...)
		}
	}
	for _, r := range Rules {
		if r.After != nil {
			out = append(out, role(r, r.After(c, slices.Clone(out)))...)
		}
	}
	return out
}

// Has reports whether a finding shows a trait.
func (t Trait) Has(u Trait) bool { return t&u == u }
