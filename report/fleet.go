package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// FleetJSON writes a fleet review as one JSON document (schema
// content.FleetSchema).
func FleetJSON(w io.Writer, s *content.Fleet) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// listNodes names up to five nodes, and how many more.
func listNodes(ns []string) string {
	if len(ns) <= 5 {
		return strings.Join(ns, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ns[:5], ", "), len(ns)-5)
}

// culpritText names a node's culprit as people know it.
func culpritText(c *content.FleetCulprit) string {
	if c == nil {
		return "-"
	}
	switch c.Kind {
	case "device":
		return "failing device " + c.Device
	}
	s := fmt.Sprintf("%s (PID %d)", c.Comm, c.PID)
	if c.Container != "" {
		s = "container " + c.Container + ": " + s
	}
	if c.Pod != "" {
		pod := c.Pod
		if c.Namespace != "" {
			pod = c.Namespace + "/" + pod
		}
		s += ", pod " + pod
	}
	if c.Kind == "limit" {
		kind := c.LimitKind
		if kind == "" {
			kind = "limit"
		}
		s = kind + " on " + s
	}
	return s
}

// FleetMarkdown writes a fleet review for people.
func FleetMarkdown(w io.Writer, s *content.Fleet) error {
	var b strings.Builder
	if s.Distinct == len(s.Nodes) {
		fmt.Fprintf(&b, "# IO fleet review: %d nodes\n\n", len(s.Nodes))
		fmt.Fprintf(&b, "%d of %d nodes have a disk-IO problem", s.Problems, len(s.Nodes))
	} else {
		fmt.Fprintf(&b, "# IO fleet review: %d captures of %s\n\n", len(s.Nodes), plural(s.Distinct, "node"))
		fmt.Fprintf(&b, "%d of %d captures show a disk-IO problem (a node captured more than once has a row per capture)", s.Problems, len(s.Nodes))
	}
	if len(s.Unreadable) > 0 {
		fmt.Fprintf(&b, "; %d input(s) could not be read (listed at the end)", len(s.Unreadable))
	}
	if len(s.Duplicates) > 0 {
		fmt.Fprintf(&b, "; %d input(s) were copies of a capture already read and count once (listed at the end)", len(s.Duplicates))
	}
	b.WriteString(".\n\n")

	if len(s.Mitigation) > 0 {
		b.WriteString("## Mitigations, the one that fixes the most nodes first\n\n| Fixes the cause on | Applies to | Horizon | Action | For |\n|---:|---:|---|---|---|\n")
		for i, m := range s.Mitigation {
			if i == 15 {
				fmt.Fprintf(&b, "\n%d more in the JSON output.\n", len(s.Mitigation)-15)
				break
			}
			fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", len(m.Fixes), len(m.Nodes), m.Horizon, esc(m.Action), strings.Join(m.Findings, ", "))
		}
		b.WriteString("\n")
	}

	if len(s.Recurring) > 0 {
		b.WriteString("## Culprits on more than one node\n\n| Culprit | By | Nodes | Which |\n|---|---|---:|---|\n")
		for _, r := range s.Recurring {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", esc(r.Name), r.Kind, len(r.Nodes), esc(listNodes(r.Nodes)))
		}
		b.WriteString("\n")
	}

	if len(s.Findings) > 0 {
		b.WriteString("## Findings by number of nodes\n\n| Finding | Nodes (warning or worse) | Critical | The verdict's cause | Info only |\n|---|---:|---:|---:|---:|\n")
		for _, f := range s.Findings {
			fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d |\n", f.ID, f.Nodes, f.Critical, f.Primary, f.Info)
		}
		b.WriteString("\n")
	}

	if s.By != nil {
		fmt.Fprintf(&b, "## By %s, worst first\n\n| %s | Nodes | With a problem | Critical | Most common cause | Worst device %%util (mean / max) | await ms (mean / max) |\n|---|---:|---:|---:|---|---|---|\n", s.By.Label, esc(s.By.Label))
		for _, g := range s.By.Groups {
			v := g.Value
			if v == "" {
				v = "(no label)"
			}
			top := "-"
			if g.TopPrimary != "" {
				top = fmt.Sprintf("`%s` (%d)", g.TopPrimary, g.TopPrimaryNodes)
			}
			fmt.Fprintf(&b, "| %s | %d | %d (%.0f %%) | %d | %s | %.0f / %.0f | %.1f / %.1f |\n", esc(v), g.Nodes, g.Problems,
				100*float64(g.Problems)/float64(g.Nodes), g.Critical, top, g.MeanUtil, g.MaxUtil, g.MeanAwaitMS, g.MaxAwaitMS)
		}
		b.WriteString("\n")
	}

	b.WriteString("## Nodes\n\n| Node | Labels | Captured (UTC) | Cause | Culprit | Worst device | %util | await ms | Source |\n|---|---|---|---|---|---|---:|---:|---|\n")
	for _, n := range s.Nodes {
		cause := "no IO problem"
		if n.Verdict.Problem {
			cause = fmt.Sprintf("`%s` (%s)", n.Verdict.Primary, n.Worst())
		}
		dev, util, await := "-", "-", "-"
		if d := n.WorstDevice; d != nil {
			dev, util, await = d.Name, fmt.Sprintf("%.0f", d.Util), fmt.Sprintf("%.1f", d.AwaitMS)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", esc(n.Key()), esc(labelText(n.Labels)), n.Window.Start.UTC().Format("2006-01-02 15:04:05"),
			cause, esc(culpritText(n.Verdict.Culprit)), dev, util, await, esc(filepath.Base(n.Source)))
	}
	b.WriteString("\n")

	if len(s.Duplicates) > 0 {
		b.WriteString("## Copies of one capture\n\n")
		for _, d := range s.Duplicates {
			fmt.Fprintf(&b, "- %s: the capture of %s\n", esc(d.Source), esc(d.SameAs))
		}
		b.WriteString("\n")
	}
	if len(s.Unreadable) > 0 {
		b.WriteString("## Unreadable\n\n")
		for _, u := range s.Unreadable {
			fmt.Fprintf(&b, "- %s: %s\n", esc(u.Source), esc(u.Error))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// labelText is "pool=logging, zone=eu-west-1a".
func labelText(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ", ")
}

// plural is "1 node", "2 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
