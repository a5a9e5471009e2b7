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
	byID := map[string]*content.Finding{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if byID[f.ID] == nil {
			byID[f.ID] = f
		}
	}
	if p := byID[v.Primary]; p != nil && v.Problem {
		parts = append(parts, p.Title)
		if wd := r.WorstDevice; wd != nil && len(e.c.Hurting()) > 0 {
			parts = append(parts, fmt.Sprintf("%s is %.0f %% busy at %.1f ms per request", wd.Name, wd.Util, wd.AwaitMS))
		}
		for _, id := range []string{"io-stalls", "io-victims"} {
			if f := byID[id]; f != nil && id != v.Primary && f.Severity >= content.Warning {
				parts = append(parts, f.Title)
			}
		}
		// A critical finding beside the primary (a tmpfs filling in
		// minutes, a failing device) is what the reader must not miss.
		for _, f := range r.Findings {
			if f.Severity == content.Critical && f.ID != v.Primary && f.ID != "io-stalls" && f.ID != "io-victims" && f.ID != "device-saturated" {
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
