package explain

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// HeadlineWords is the most words a report's verdict may take.
const HeadlineWords = 70

// headline is the verdict in at most HeadlineWords words, composed of
// typed parts: the cause (the primary finding's title); the impact — the
// worst device's figures when it hurts, the calls that fail, who waited
// and how long, the stalls, a critical finding beside the cause; then
// the summary's sentences that add a fact. A sentence that names a path,
// a cgroup or a process already named restates what the verdict said
// and is left out, as is a second word on the device's load. A part that
// does not fit is left out and the next one tried. Without a primary
// finding it is the summary's sentences that fit.
func (e *explainer) headline(r *content.Report) string {
	v := r.Verdict
	var parts []string
	if p := findingByID(r.Findings, v.Primary); p != nil && v.Problem {
		parts = append(parts, p.Title)
		parts = append(parts, howItWrites(r.Findings, p)...)
		parts = append(parts, e.impact(r, p)...)
	}
	for _, s := range sentences(v.Summary) {
		// The lists of other findings' ids are the list of findings
		// below the verdict.
		if !strings.HasPrefix(s, "Also found: ") && !strings.HasPrefix(s, "It leads to: ") {
			parts = append(parts, s)
		}
	}
	var h headlineText
	for _, p := range parts {
		h.add(p)
	}
	if h.out == "" {
		// Every part too long for the budget: the first one's first words.
		for _, p := range parts {
			if w := strings.Fields(strings.TrimSuffix(strings.TrimSpace(p), ".")); len(w) > 0 {
				return strings.Join(w[:min(len(w), HeadlineWords-1)], " ") + " …"
			}
		}
	}
	return strings.TrimSpace(h.out)
}

// howItWrites says how the cause's process writes when other findings
// about it measured it (the primary says the mechanism): the size and
// rate of its pieces, and what each costs in pages or on the device,
// without naming the file again.
func howItWrites(fs []content.Finding, primary *content.Finding) []string {
	if len(primary.Subjects.PIDs) == 0 {
		return nil
	}
	var pieces, cost []string
	for i := range fs {
		f := &fs[i]
		if len(f.Subjects.PIDs) == 0 || f.Subjects.PIDs[0] != primary.Subjects.PIDs[0] {
			continue
		}
		shows := rules.Of(f).Shows
		if s, ok := rules.Pieces(f); ok && shows.Has(rules.SmallPieces) && !rules.Of(primary).Shows.Has(rules.SmallPieces) {
			pieces = append(pieces, "It writes "+s)
		}
		if s, ok := rules.WriteCost(f); ok && shows.Has(rules.Amplified) && !rules.Of(primary).Shows.Has(rules.Amplified) {
			cost = append(cost, s)
		}
	}
	// The pieces, then what each costs.
	return append(pieces, cost...)
}

// impact are the verdict's parts that say what the cause costs: the
// device when it hurts, what fails, who waited and how long, stalls
// that matter, and a critical finding the reader must not miss.
func (e *explainer) impact(r *content.Report, primary *content.Finding) []string {
	var out []string
	if wd := r.WorstDevice; wd != nil && len(e.c.Hurting()) > 0 && !(primary.Role == content.Saturation && primary.Subjects.Device == wd.Name) {
		out = append(out, fmt.Sprintf("Device %s is %.0f %% busy at %.1f ms per request", wd.Name, wd.Util, wd.AwaitMS))
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if n, ok := f.Figure(rules.FigFailedCalls); ok && n > 0 && f != primary {
			out = append(out, f.Title)
		}
	}
	// Who waited, then who stalled: the effects a reader acts on.
	if f := firstOfRole(r.Findings, content.Victims); f != nil && f != primary && f.Severity >= content.Warning {
		out = append(out, e.victimsPart(f)...)
	}
	if f := firstOfRole(r.Findings, content.Stall); f != nil && f != primary && f.Severity >= content.Warning {
		out = append(out, f.Title)
	}
	for _, f := range r.Findings {
		if f.Severity == content.Critical && f.ID != primary.ID && !f.Role.Effect() {
			out = append(out, f.Title)
		}
	}
	return out
}

// victimsPart says who waited for the device and how long their requests
// took, one part per victim (the findings' PIDs and their evidence's
// latency, in the same order), at most two.
func (e *explainer) victimsPart(f *content.Finding) []string {
	var out []string
	for i, pid := range f.Subjects.PIDs {
		if i == 2 || i >= len(f.Evidence) {
			break
		}
		pio := e.c.ByPID[pid]
		lat, ok := f.Evidence[i].Figures[rules.FigLatencyMS]
		if pio == nil || !ok || lat <= 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s waited for %s: its requests took %.1f ms each", window.Name(pio.Proc), f.Subjects.Device, lat))
	}
	if len(out) == 0 {
		out = append(out, f.Title)
	}
	return out
}

// findingByID is the first finding with the id (the verdict names its
// primary finding by id), nil when there is none.
func findingByID(fs []content.Finding, id string) *content.Finding {
	for i := range fs {
		if fs[i].ID == id {
			return &fs[i]
		}
	}
	return nil
}

// firstOfRole is the first finding playing the role.
func firstOfRole(fs []content.Finding, role content.Role) *content.Finding {
	for i := range fs {
		if fs[i].Role == role {
			return &fs[i]
		}
	}
	return nil
}

// headlineText is a verdict being written: its text, its words, and the
// names it has said.
type headlineText struct {
	out   string
	words int
	named map[string]bool
	// load is true once a device's load (busy, saturated) was said.
	load bool
	// openings are the first words of the sentences said: a figure
	// told again in other units opens the same way ("Each write costs
	// the device 5.0 requests and 4.2 KiB" / "... and 4348 bytes").
	openings map[string]bool
}

// openingWords is how many first words make a sentence's opening.
const openingWords = 4

// opening is a sentence's first openingWords words, lower case ("" for a
// shorter sentence).
func opening(p string) string {
	w := strings.Fields(strings.ToLower(p))
	if len(w) < openingWords {
		return ""
	}
	return strings.Join(w[:openingWords], " ")
}

// Names a sentence may repeat: absolute paths (files, mounts, cgroups)
// and processes.
var (
	pathName = regexp.MustCompile(`(?:^|[\s(])(/[^\s,;()]*[^\s,;().:])`)
	pidName  = regexp.MustCompile(`PID \d+`)
	loadWord = regexp.MustCompile(`\b(busy|saturated|%util)\b`)
)

// names are the paths and processes a sentence names.
func names(s string) []string {
	var out []string
	for _, m := range pathName.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return append(out, pidName.FindAllString(s, -1)...)
}

// add appends a sentence when it fits and says something new.
func (h *headlineText) add(p string) {
	p = strings.TrimSuffix(strings.TrimSpace(p), ".")
	w := len(strings.Fields(p))
	if p == "" || h.words+w > HeadlineWords || h.restates(p) {
		return
	}
	if h.named == nil {
		h.named = map[string]bool{}
	}
	for _, n := range names(p) {
		h.named[n] = true
	}
	h.load = h.load || loadWord.MatchString(p)
	if o := opening(p); o != "" {
		if h.openings == nil {
			h.openings = map[string]bool{}
		}
		h.openings[o] = true
	}
	h.out += p + ". "
	h.words += w
}

// restates reports whether a sentence names a path or a process the
// verdict named already (it is about the same subject, told again),
// speaks of a device's load after the verdict did, or opens as a
// sentence said already.
func (h *headlineText) restates(p string) bool {
	if h.load && loadWord.MatchString(p) {
		return true
	}
	if o := opening(p); o != "" && h.openings[o] {
		return true
	}
	for _, n := range names(p) {
		if h.named[n] {
			return true
		}
	}
	return false
}

// sentences splits prose at ". " (not inside a number or a path).
func sentences(s string) []string {
	var out []string
	for s != "" {
		i := strings.Index(s, ". ")
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i+1])
		s = s[i+2:]
	}
	return out
}
