package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/iorca/iorca/analyze/rules"
)

// jsonReport is the stable JSON contract (schema iorca.report/v1),
// documented in the README.
type jsonReport struct {
	Schema   string          `json:"schema"`
	Host     string          `json:"host"`
	Bundle   string          `json:"bundle"`
	Window   jsonWindow      `json:"window"`
	Verdict  rules.Verdict   `json:"verdict"`
	Findings []rules.Finding `json:"findings"`
	Partial  bool            `json:"partial"`
	Limits   []string        `json:"limits"`
}

type jsonWindow struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds float64   `json:"seconds"`
	Ticks   int       `json:"ticks"`
}

// JSON writes the report as one JSON document.
func (r *Report) JSON(w io.Writer) error {
	a, b := r.span()
	jr := jsonReport{
		Schema: Schema, Host: r.M.Manifest.Host.Hostname, Bundle: r.Bundle,
		Window:   jsonWindow{Start: a.UTC(), End: b.UTC(), Seconds: r.D.Context.Seconds, Ticks: len(r.M.Ticks)},
		Verdict:  r.D.Verdict,
		Findings: r.D.Findings,
		Partial:  r.M.Manifest.Partial,
		Limits:   []string{},
	}
	if jr.Findings == nil {
		jr.Findings = []rules.Finding{}
	}
	plain := func(s string) string { return s }
	jr.Limits = append(jr.Limits, r.limitItems(plain, plain)...)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jr)
}
