package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// ComparisonJSON writes a comparison as one JSON document (schema
// content.ComparisonSchema).
func ComparisonJSON(w io.Writer, d *content.Comparison) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// figureText is "12.3 → 0.4 (−97 %)".
func figureText(f content.ComparedFigure) string {
	s := fmt.Sprintf("%s → %s", diffNum(f.Before), diffNum(f.After))
	switch {
	case f.Before == 0 && f.After == 0:
		return "0"
	case f.Before == 0:
		return s + " (new)"
	}
	return fmt.Sprintf("%s (%+.0f %%)", s, f.Change())
}

func diffNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func findingLine(f content.FindingChange) string {
	s := fmt.Sprintf("`%s`", f.ID)
	if f.Subject != "" {
		s += " (" + esc(f.Subject) + ")"
	}
	s += " — " + esc(f.Title)
	switch {
	case f.SeverityBefore != "" && f.SeverityAfter != "" && f.SeverityBefore != f.SeverityAfter:
		s += fmt.Sprintf(" [%s → %s]", f.SeverityBefore, f.SeverityAfter)
	case f.SeverityBefore != "" && f.SeverityAfter == "":
		s += fmt.Sprintf(" [was %s]", f.SeverityBefore)
	case f.SeverityAfter != "":
		s += fmt.Sprintf(" [%s]", f.SeverityAfter)
	}
	return s
}

// ComparisonMarkdown writes a comparison for people.
func ComparisonMarkdown(w io.Writer, d *content.Comparison) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# IO comparison: %s → %s\n\n", esc(d.Before.NodeName()), esc(d.After.NodeName()))
	fmt.Fprintf(&b, "Before: `%s`, %s, %.0f s. After: `%s`, %s, %.0f s.\n\n", d.Before.Bundle, d.Before.Start, d.Before.Seconds, d.After.Bundle, d.After.Start, d.After.Seconds)
	for _, w := range d.Warnings {
		fmt.Fprintf(&b, "**Warning:** %s.\n\n", esc(w))
	}
	b.WriteString("## Verdicts\n\n")
	fmt.Fprintf(&b, "- **Before:** %s\n- **After:** %s\n\n", verdictText(d.Before), verdictText(d.After))

	b.WriteString("## Findings\n\n")
	list := func(title string, fs []content.FindingChange) {
		fmt.Fprintf(&b, "**%s** (%d)\n\n", title, len(fs))
		if len(fs) == 0 {
			b.WriteString("- none\n\n")
			return
		}
		for _, f := range fs {
			fmt.Fprintf(&b, "- %s\n", findingLine(f))
		}
		b.WriteString("\n")
	}
	list("Resolved", d.Resolved)
	list("New", d.New)
	list("Unchanged", d.Unchanged)

	rows := func(title, first string, rs []content.ComparedRow) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(&b, "## %s\n\n| %s |", title, first)
		for _, f := range rs[0].Figures {
			fmt.Fprintf(&b, " %s |", esc(strings.TrimSpace(f.Name+" "+unitText(f.Unit))))
		}
		b.WriteString("\n|---|")
		for range rs[0].Figures {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, r := range rs {
			fmt.Fprintf(&b, "| %s |", esc(r.Name))
			for _, f := range r.Figures {
				fmt.Fprintf(&b, " %s |", figureText(f))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	rows("Devices (iostat -x over each capture, before → after)", "Device", d.Devices)
	rows("Applications (per second over each capture, before → after)", "Application", d.Apps)
	_, err := io.WriteString(w, b.String())
	return err
}

func unitText(u string) string {
	if u == "" || u == "%" || strings.HasPrefix(u, "/") {
		return ""
	}
	return "(" + u + ")"
}

func verdictText(s content.ComparisonSide) string {
	v := s.Verdict
	if !v.Problem {
		return "no IO problem found."
	}
	out := fmt.Sprintf("`%s`", v.Primary)
	if c := v.Culprit; c != nil && c.Comm != "" {
		out += fmt.Sprintf(", culprit PID %d %s", c.PID, esc(c.Comm))
		if rel := c.ContainerRelation(); rel != "" {
			out += " " + rel + " " + esc(c.Container)
		}
	}
	return out + " — " + esc(v.Summary)
}
