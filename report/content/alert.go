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
	// For is the rule's hold duration, in Prometheus's form ("2s").
	For         string            `json:"for"`
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
