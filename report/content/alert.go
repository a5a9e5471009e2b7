package content

import "time"

// Alert is an alert rule a report proposes, with the time it would first
// have fired on the bundle's own series.
type Alert struct {
	Name string `json:"name"`
	// Kind is "prometheus" for a PromQL rule, "loki" for a log-based
	// rule (LogQL, for a Loki ruler) where the kernel log is the only
	// signal.
	Kind string `json:"kind"`
	Expr string `json:"expr"`
	// For is the rule's hold duration, in Prometheus's form ("5m").
	// Expr and For are the rule to paste: its windows are production
	// ones, for a Prometheus scraping every few seconds.
	For string `json:"for"`
	// ProofExpr and ProofFor are the same rule at the bundle's
	// resolution (windows and hold a fraction of the capture): what was
	// evaluated to give FiresAt.
	ProofExpr string `json:"proof_expr"`
	ProofFor  string `json:"proof_for"`
	// EvaluatedOn says what the proof ran on: the bundle's captured
	// counters, series derived from them (and how), or nothing a rule
	// engine can evaluate (a log-based rule, timed by its first line).
	EvaluatedOn string            `json:"evaluated_on"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// FiresAt is when it would first have fired; FiresAfter the same in
	// seconds from the capture's first tick (negative before it).
	FiresAt    time.Time `json:"fires_at"`
	FiresAfter float64   `json:"fires_after_seconds"`
	// SeriesLabels are the labels of the series it fires on (the rule's
	// own labels not included), as promtool reports them.
	SeriesLabels map[string]string `json:"series_labels,omitempty"`
	// Finding is the finding that calls for it; Note says what the
	// reader must know to use it (how its series were built, why it is
	// log-based).
	Finding string `json:"finding"`
	Note    string `json:"note,omitempty"`
}
