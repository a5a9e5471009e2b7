package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/iorca/iorca/report/content"
)

// jsonReport is the stable JSON contract (schema content.ReportSchema),
// documented in the README. JSON writes it and ParseJSON reads it.
type jsonReport struct {
	Schema        string                 `json:"schema"`
	Host          string                 `json:"host"`
	Node          string                 `json:"node,omitempty"`
	Labels        map[string]string      `json:"labels,omitempty"`
	Bundle        string                 `json:"bundle"`
	Window        content.Window         `json:"window"`
	Verdict       content.Verdict        `json:"verdict"`
	EvidenceChain []content.Step         `json:"evidence_chain"`
	Findings      []content.Finding      `json:"findings"`
	WorstDevice   *content.DeviceFigures `json:"worst_device,omitempty"`
	Partial       bool                   `json:"partial"`
	// Limits are written as plain text (content.Line's JSON).
	Limits []content.Line `json:"limits"`
	// Alerts are the alert rules proposed, each with when it would
	// first have fired on the bundle's own series.
	Alerts []content.Alert `json:"alerts"`
}

// JSON writes the report as one JSON document.
func (r *Report) JSON(w io.Writer) error {
	c := r.Content
	jr := jsonReport{
		Schema: content.ReportSchema, Host: c.Host, Node: c.Node, Labels: c.Labels, Bundle: c.Bundle, Window: c.Window, WorstDevice: c.WorstDevice,
		Verdict: c.Verdict, EvidenceChain: c.Chain, Findings: c.Findings,
		Partial: c.Partial, Limits: c.Appendix.Limits, Alerts: c.Monitoring.Alerts,
	}
	if jr.Alerts == nil {
		jr.Alerts = []content.Alert{}
	}
	if jr.EvidenceChain == nil {
		jr.EvidenceChain = []content.Step{}
	}
	if jr.Limits == nil {
		jr.Limits = []content.Line{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jr)
}

// ParseJSON reads a report that JSON wrote back into its content. The
// content holds what the JSON does, no more: no title, intro, grouped
// mitigations, monitoring or appendix tables; no finding's score, role
// or limit; each line is its plain text, one content.Text span. Keys
// it does not know are ignored, so that a newer writer's report still
// reads; a document of another schema is an error.
func ParseJSON(data []byte) (*content.Report, error) {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a JSON report: %w", err)
	}
	if head.Schema != content.ReportSchema {
		return nil, fmt.Errorf("schema %q, want %q", head.Schema, content.ReportSchema)
	}
	var jr jsonReport
	if err := json.Unmarshal(data, &jr); err != nil {
		return nil, fmt.Errorf("JSON report: %w", err)
	}
	return &content.Report{
		Host: jr.Host, Node: jr.Node, Labels: jr.Labels, Bundle: jr.Bundle, Window: jr.Window, WorstDevice: jr.WorstDevice,
		Verdict: jr.Verdict, Chain: jr.EvidenceChain, Findings: jr.Findings,
		Partial: jr.Partial, Appendix: content.Appendix{Limits: jr.Limits}, Monitoring: content.Monitoring{Alerts: jr.Alerts},
	}, nil
}
