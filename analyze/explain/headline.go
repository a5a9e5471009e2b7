package explain

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// HeadlineWords is the most words a report's verdict may take.
const HeadlineWords = 70

// headline is the verdict in at most HeadlineWords words: the primary
// finding's title (culprit and mechanism), then the impact — the worst
// device's figures when it hurts, who stalled and who waited — and the
// summary's first sentence while words remain. Without a primary
// finding it is the summary's sentences that fit.
func (e *explainer) headline(r *content.Report) string {
	v := r.Verdict
	var parts []string
	if p := findingByID(r.Findings, v.Primary); p != nil && v.Problem {
		parts = append(parts, p.Title)
		if wd := r.WorstDevice; wd != nil && len(e.c.Hurting()) > 0 {
			parts = append(parts, fmt.Sprintf("%s is %.0f %% busy at %.1f ms per request", wd.Name, wd.Util, wd.AwaitMS))
		}
		// Who stalled, then who waited: the effects a reader acts on.
		for _, role := range []content.Role{content.Stall, content.Victims} {
			if f := firstOfRole(r.Findings, role); f != nil && f != p && f.Severity >= content.Warning {
				parts = append(parts, f.Title)
			}
		}
		// A critical finding beside the primary (a tmpfs filling in
		// minutes, a failing device) is what the reader must not miss;
		// a critical effect is the primary's, said above.
		for i := range r.Findings {
			if f := &r.Findings[i]; f.Severity == content.Critical && f.ID != v.Primary && !f.Role.Effect() {
				parts = append(parts, f.Title)
			}
		}
	}
	parts = append(parts, sentences(v.Summary)...)
	out, n := "", 0
	for _, p := range parts {
		p = strings.TrimSuffix(strings.TrimSpace(p), ".")
		w := len(strings.Fields(p))
		if p == "" || n+w > HeadlineWords {
			if out == "" { // a first part too long for the budget: its first words
				return strings.Join(strings.Fields(p)[:HeadlineWords-1], " ") + " …"
			}
			break
		}
		out += p + ". "
		n += w
	}
	return strings.TrimSpace(out)
}

// findingByID is the first finding with the id (the verdict names its
// primary finding by id).
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
