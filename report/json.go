package report

import (
	"encoding/json"
	"io"

	"github.com/iorca/iorca/report/content"
)

// jsonReport is the stable JSON contract (schema content.ReportSchema),
// documented in the README.
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
	Limits        []string               `json:"limits"`
}

// JSON writes the report as one JSON document.
func (r *Report) JSON(w io.Writer) error {
	c := r.Content
	jr := jsonReport{
		Schema: content.ReportSchema, Host: c.Host, Node: c.Node, Labels: c.Labels, Bundle: c.Bundle, Window: c.Window, WorstDevice: c.WorstDevice,
		Verdict: c.Verdict, EvidenceChain: c.Chain, Findings: c.Findings,
		Partial: c.Partial, Limits: []string{},
	}
	if jr.EvidenceChain == nil {
		jr.EvidenceChain = []content.Step{}
	}
	for _, l := range c.Appendix.Limits {
		jr.Limits = append(jr.Limits, l.Plain())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jr)
}
