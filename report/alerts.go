package report

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/iorca/iorca/report/content"
)

// RuleFile writes the alerts of kind ("prometheus" or "loki") as a rule
// file, one group: the format both Prometheus and the Loki ruler read.
// "" when there are none.
func RuleFile(alerts []content.Alert, kind string) string {
	var b bytes.Buffer
	for _, a := range alerts {
		if a.Kind != kind {
			continue
		}
		fmt.Fprintf(&b, "      - alert: %s\n        expr: %s\n", a.Name, strconv.Quote(a.Expr))
		if a.For != "" && a.For != "0s" {
			fmt.Fprintf(&b, "        for: %s\n", a.For)
		}
		yamlMap(&b, "labels", a.Labels)
		yamlMap(&b, "annotations", a.Annotations)
	}
	if b.Len() == 0 {
		return ""
	}
	return "groups:\n  - name: iorca-disk-io\n    rules:\n" + b.String()
}

func yamlMap(b *bytes.Buffer, name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "        %s:\n", name)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, "          %s: %s\n", k, strconv.Quote(m[k]))
	}
}

// ProofRuleFile is RuleFile of the rules as they were proven on the
// bundle: at its resolution (ProofExpr, ProofFor), for promtool to check
// the claimed firing times on the bundle's series.
func ProofRuleFile(alerts []content.Alert, kind string) string {
	proof := make([]content.Alert, len(alerts))
	for i, a := range alerts {
		a.Expr, a.For = a.ProofExpr, a.ProofFor
		proof[i] = a
	}
	return RuleFile(proof, kind)
}

// MergeAlerts are the alerts of many reports, each rule once (same name,
// expression, hold and labels), in the order first seen.
func MergeAlerts(sets ...[]content.Alert) []content.Alert {
	var out []content.Alert
	seen := map[string]bool{}
	for _, as := range sets {
		for _, a := range as {
			k := a.Kind + "\x00" + a.Name + "\x00" + a.Expr + "\x00" + a.For + "\x00" + fmt.Sprint(a.Labels)
			if !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// alertsTable writes when each proposed alert would first have fired.
func alertsTable(b *bytes.Buffer, c *content.Report) {
	as := c.Monitoring.Alerts
	if len(as) == 0 {
		return
	}
	b.WriteString("## Alerts that would have fired\n\n")
	b.WriteString("Each rule was evaluated at this bundle's resolution, its windows and hold scaled to the capture (For below), on what the last column says; the rules to paste, in the appendix, have production windows:\n\n")
	b.WriteString("| Alert | Would have fired | For | Finding | Evaluated on |\n|---|---|---|---|---|\n")
	for _, a := range as {
		name := code(a.Name)
		if a.Kind == "loki" {
			name += " (log-based)"
		}
		fmt.Fprintf(b, "| %s | %s UTC (%+.0f s) | %s | %s | %s |\n", name, a.FiresAt.UTC().Format("15:04:05"), a.FiresAfter, a.ProofFor, a.Finding, esc(a.EvaluatedOn))
	}
	b.WriteString("\n")
}
