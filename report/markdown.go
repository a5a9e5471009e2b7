package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/iorca/iorca/internal/table"
	"github.com/iorca/iorca/report/content"
)

// Markdown writes the report.
func (r *Report) Markdown(w io.Writer) error {
	var b bytes.Buffer
	c := r.Content
	fmt.Fprintf(&b, "# %s\n\n", esc(c.Title))
	fmt.Fprintf(&b, "%s\n\n", md(c.Intro))

	verdict(&b, c)
	immediate(&b, c)
	findingList(&b, c.Findings)
	mitigations(&b, c, false)
	alertsTable(&b, c)
	appendix(&b, c)
	_, err := w.Write(b.Bytes())
	return err
}

// verdict writes the verdict: cause, culprit, confidence, when it began,
// the trigger.
func verdict(b *bytes.Buffer, c *content.Report) {
	v := c.Verdict
	head := c.Headline
	if head == "" {
		head = v.Summary
	}
	fmt.Fprintf(b, "## Verdict\n\n%s\n\n", esc(head))
	if cp := v.Culprit; cp != nil && cp.Kind == "device" {
		fmt.Fprintf(b, "**Culprit:** the failing device %s  \n", code(cp.Device))
	} else if cp != nil && cp.Kind == "limit" {
		kind := cp.LimitKind
		if kind == "" {
			kind = "limit"
		}
		// The limit is a finding's title, a sentence of its own: "The
		// v1 blkio cgroup ..." reads "the v1 blkio cgroup ..." here.
		limit := cp.Limit
		if rest, ok := strings.CutPrefix(limit, "The "); ok {
			limit = "the " + rest
		}
		fmt.Fprintf(b, "**Culprit:** the %s — %s; it holds PID %d %s", kind, esc(limit), cp.PID, code(cp.Comm))
		fmt.Fprintf(b, " — %s  \n", code(cp.Cmdline))
	} else if cp != nil {
		fmt.Fprintf(b, "**Culprit:** PID %d %s", cp.PID, code(cp.Comm))
		if cp.Processes > 1 {
			fmt.Fprintf(b, " (an application of %d processes)", cp.Processes)
		}
		if rel := cp.ContainerRelation(); rel != "" {
			fmt.Fprintf(b, " %s %s", rel, code(cp.Container))
		}
		if cp.Pod != "" {
			fmt.Fprintf(b, " (pod %s)", code(cp.Pod))
		}
		fmt.Fprintf(b, " — %s  \n", code(cp.Cmdline))
	}
	why := ""
	if c.ConfidenceWhy != "" {
		why = " (" + esc(c.ConfidenceWhy) + ")"
	}
	fmt.Fprintf(b, "**Confidence:** %s%s\n\n", v.Confidence, why)
	if line := OnsetText(v.Onset); line != "" {
		fmt.Fprintf(b, "**When it began:** %s\n\n", esc(line))
	}
	if t := v.Trigger; t != nil {
		fmt.Fprintf(b, "**Trigger:** %s %s\n\n", code(t.Expression), esc(strings.TrimPrefix(TriggerText(t), t.Expression+" ")))
	}

}

// chain writes the evidence chain as a numbered list of steps.
func chain(b *bytes.Buffer, steps []content.Step) {
	if len(steps) == 0 {
		return
	}
	b.WriteString("### Evidence chain\n\n")
	for i, s := range steps {
		fmt.Fprintf(b, "%d. **%s** — %s\n", i+1, s.Title, md(s.Source))
		for _, f := range s.Facts {
			fmt.Fprintf(b, "   - %s\n", md(f.Text))
			if f.Quote != "" {
				fmt.Fprintf(b, "     %s\n", code(f.Quote))
			}
		}
	}
	b.WriteString("\n")
}

// findingList lists the findings, one line each; their evidence is in
// the appendix.
func findingList(b *bytes.Buffer, fs []content.Finding) {
	b.WriteString("## Findings\n\n")
	if len(fs) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	for i, f := range fs {
		fmt.Fprintf(b, "%s\n", findingHeading(i, f))
	}
	b.WriteString("\nTheir evidence is in the appendix.\n\n")
}

// findingDetails writes each finding with its evidence.
func findingDetails(b *bytes.Buffer, fs []content.Finding) {
	if len(fs) == 0 {
		return
	}
	b.WriteString("### Findings in detail\n\n")
	for i, f := range fs {
		fmt.Fprintf(b, "#### %s\n\n", findingHeading(i, f))
		findingBody(b, f)
	}
}

// findingHeading is a finding's heading: number, severity, id, title.
func findingHeading(i int, f content.Finding) string {
	return fmt.Sprintf("%d. \\[%s\\] %s — %s", i+1, f.Severity, code(f.ID), esc(f.Title))
}

// findingBody is a finding under its heading: summary, confidence,
// subjects and evidence.
func findingBody(b *bytes.Buffer, f content.Finding) {
	fmt.Fprintf(b, "%s\n\n", esc(f.Summary))
	conf := f.Confidence.String()
	if f.ConfidenceWhy != "" {
		conf += " — " + esc(f.ConfidenceWhy)
	}
	fmt.Fprintf(b, "- Confidence: %s\n", conf)
	if s := subjectsText(f.Subjects); s != "" {
		fmt.Fprintf(b, "- Subjects: %s\n", s)
	}
	b.WriteString("- Evidence:\n")
	for _, e := range f.Evidence {
		where := code(e.Member)
		if e.Ticks != "" {
			where += ", ticks " + e.Ticks
		}
		fmt.Fprintf(b, "  - %s (%s)\n", esc(e.What), where)
		for _, l := range e.Lines {
			fmt.Fprintf(b, "    - %s\n", code(l))
		}
	}
	b.WriteString("\n")
}

func subjectsText(s content.Subjects) string {
	var parts []string
	var pids []string
	for _, x := range s.PIDs {
		if x < 0 {
			parts = append(parts, fmt.Sprintf("the exited children of PID %d", -x))
			continue
		}
		pids = append(pids, fmt.Sprint(x))
	}
	if len(pids) > 0 {
		parts = append([]string{"PID " + strings.Join(pids, ", ")}, parts...)
	}
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+code(v))
		}
	}
	add("container", s.Container)
	add("pod", s.Pod)
	add("device", s.Device)
	add("file", s.Path)
	add("mount", s.Mount)
	add("cgroup", s.Cgroup)
	return strings.Join(parts, "; ")
}

// immediate writes the actions to take first: the immediate
// mitigations, else the short-term ones.
func immediate(b *bytes.Buffer, c *content.Report) {
	if !c.Verdict.Problem || len(c.Mitigations) == 0 {
		return
	}
	b.WriteString("## Immediate actions\n\n")
	g := c.Mitigations[0]
	if g.Horizon != content.Immediate {
		b.WriteString("Nothing needs doing within the hour; the first changes to make:\n\n")
	}
	mitigationTable(b, g)
}

// mitigations writes one table per horizon but the first (the
// immediate actions), or every horizon when all is true.
func mitigations(b *bytes.Buffer, c *content.Report, all bool) {
	if !c.Verdict.Problem && c.Window.Ticks < 2 {
		b.WriteString("## Mitigations\n\nNone: without two ticks no rate, and so no finding, could be judged.\n\n")
		return
	}
	if !c.Verdict.Problem {
		b.WriteString("## Mitigations\n\nNone needed: no warning or critical finding.\n\n")
		return
	}
	gs := c.Mitigations
	if !all && len(gs) > 0 {
		gs = gs[1:]
	}
	if len(gs) == 0 {
		return
	}
	b.WriteString("## Mitigations\n\n")
	for _, g := range gs {
		h := string(g.Horizon)
		fmt.Fprintf(b, "### %s\n\n", strings.ToUpper(h[:1])+h[1:])
		mitigationTable(b, g)
	}
}

// mitigationTable writes one horizon's mitigations, commands as code
// spans, and after it the commands a cell could not hold.
func mitigationTable(b *bytes.Buffer, g content.MitigationGroup) {
	t := &table.Table{Columns: []table.Column{{Name: "Action", Left: true}, {Name: "How", Left: true}, {Name: "Expected effect", Left: true}, {Name: "For", Left: true}}}
	var below []string
	for _, m := range g.Rows {
		t.Add(table.Text(m.Action), table.Markdown(howCell(m.How, m.Commands, &below)), table.Text(m.Effect), table.Text(strings.Join(m.Findings, ", ")))
	}
	t.Markdown(b)
	b.WriteString("\n")
	commandsBelow(b, below)
}

// monitoring writes what to watch and the alert rules as rule files, or
// nothing when no finding calls for them.
func monitoring(b *bytes.Buffer, m content.Monitoring) {
	if m.Metrics == nil && len(m.Alerts) == 0 {
		return
	}
	b.WriteString("### Monitoring and alert rules\n\n")
	if m.Metrics != nil {
		m.Metrics.Markdown(b)
		b.WriteString("\n")
	}
	if rf := RuleFile(m.Alerts, "prometheus"); rf != "" {
		b.WriteString("Prometheus alert rules (paste into a rule file; thresholds are this report's, rate windows and for: are production ones, set for the scrape interval by --threshold alert_scrape_s):\n\n```yaml\n")
		b.WriteString(rf)
		b.WriteString("```\n\n")
		b.WriteString("As proven on this bundle, at its resolution:\n\n")
		for _, a := range m.Alerts {
			if a.Kind == "prometheus" && (a.ProofExpr != a.Expr || a.ProofFor != a.For) {
				fmt.Fprintf(b, "- %s: %s, for: %s\n", code(a.Name), code(a.ProofExpr), a.ProofFor)
			}
		}
		b.WriteString("\n")
	}
	if rf := RuleFile(m.Alerts, "loki"); rf != "" {
		b.WriteString("Log-based rules (a Loki ruler's rule file):\n\n```yaml\n")
		b.WriteString(rf)
		b.WriteString("```\n\n")
	}
	// One line per note, naming every rule it applies to.
	var notes []string
	names := map[string][]string{}
	for _, a := range m.Alerts {
		if a.Note == "" {
			continue
		}
		if names[a.Note] == nil {
			notes = append(notes, a.Note)
		}
		names[a.Note] = append(names[a.Note], code(a.Name))
	}
	for _, n := range notes {
		fmt.Fprintf(b, "- %s: %s.\n", strings.Join(names[n], ", "), esc(n))
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
}

// appendix writes the tables and the limits of what was seen.
func appendix(b *bytes.Buffer, c *content.Report) {
	b.WriteString("## Appendix\n\n")
	if c.Headline != "" && c.Headline != c.Verdict.Summary {
		fmt.Fprintf(b, "### The verdict in full\n\n%s\n\n", esc(c.Verdict.Summary))
	}
	chain(b, c.Chain)
	findingDetails(b, c.Findings)
	monitoring(b, c.Monitoring)
	appendixTables(b, c)
}

// appendixTables writes the replayed tools' tables and the limits of
// what was seen.
func appendixTables(b *bytes.Buffer, c *content.Report) {
	a := c.Appendix
	if a.Iotop != nil {
		fmt.Fprintf(b, "### iotop -aoP over the capture (%.0f s)\n\n", c.Window.Seconds)
		if len(a.Iotop.Rows) == 0 {
			b.WriteString("No process did IO.\n")
		} else {
			a.Iotop.Markdown(b)
		}
	}
	if a.Iostat != nil {
		fmt.Fprintf(b, "\n### iostat -x over the capture\n\n")
		if len(a.Iostat.Rows) == 0 {
			b.WriteString("No device did IO.\n")
		} else {
			a.Iostat.Markdown(b)
		}
		b.WriteString("\n")
	}
	if a.Dirty != nil {
		b.WriteString("### Dirty page cache and writeback\n\n")
		a.Dirty.Markdown(b)
		fmt.Fprintf(b, "\n%s\n\n", md(a.DirtySettings))
	}
	if a.Mounts != nil {
		b.WriteString("### Mounts involved\n\n")
		a.Mounts.Markdown(b)
		b.WriteString("\n")
	}
	b.WriteString("### What the collector could not see\n\n")
	if len(a.Limits) == 0 {
		b.WriteString("- Nothing: every source was read.\n")
	}
	for _, l := range a.Limits {
		fmt.Fprintf(b, "- %s\n", md(l))
	}
	if len(a.Thresholds) == 0 {
		return
	}
	b.WriteString("\n### Thresholds changed from their defaults\n\n")
	var kv []string
	for _, t := range a.Thresholds {
		kv = append(kv, t.Name+"="+strconv.FormatFloat(t.Value, 'f', -1, 64))
	}
	fmt.Fprintf(b, "%s\n", code(strings.Join(kv, " ")))
}

// OnsetText says when the incident began, in a sentence or three; "" when
// the verdict does not know.
func OnsetText(o *content.Onset) string {
	if o == nil {
		return ""
	}
	if o.Event != "" {
		return fmt.Sprintf("began at +%.1f s (tick %d, %s UTC): %s.", o.Seconds, o.Tick, o.Time.UTC().Format("15:04:05"), o.Event)
	}
	if o.UnderWay {
		if o.Tick > 1 {
			return fmt.Sprintf("as the capture began: from tick %d, %s, with too little quiet time before it to compare with.", o.Tick, o.Condition)
		}
		return fmt.Sprintf("before the capture began: in its first interval already, %s; the bundle holds no quiet time to compare with.", o.Condition)
	}
	s := fmt.Sprintf("%s UTC, %.0f s into the capture (tick %d): from then on %s, in most intervals to the end; the %.0f s before are the baseline.",
		o.Time.UTC().Format("15:04:05"), o.Seconds, o.Tick, o.Condition, o.BaselineSeconds)
	if len(o.Changes) > 0 {
		s += " What changed: " + strings.Join(o.Changes, "; ") + "."
	}
	if o.WindowFrom > 0 {
		s += fmt.Sprintf(" Rates and shares in the findings are over the incident, from tick %d.", o.WindowFrom)
	}
	return s
}

// TriggerText says which trigger started the capture; "" when none fired.
func TriggerText(t *content.TriggerMark) string {
	if t == nil {
		return ""
	}
	s := fmt.Sprintf("%s fired at %s UTC (tick %d)", t.Expression, t.Time.UTC().Format("15:04:05"), t.Tick)
	if t.Figures != "" {
		s += " on " + t.Figures
	}
	return s + "."
}
