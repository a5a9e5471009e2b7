package alerts

import (
	"time"

	"github.com/iorca/iorca/report/content"
)

// Rule is an alert rule as data: a name, an expression built from parts
// (or a LogQL query for a log-based rule), a hold duration, labels and
// annotations.
type Rule struct {
	Name string
	Expr Expr
	// LogQL is the query of a log-based rule (Expr is nil then).
	LogQL       string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
	// Finding is the finding that calls for the rule; Note what a reader
	// must know to use it.
	Finding, Note string
}

// Scale gives the rate window and the hold duration of a set's rules: a
// quarter of the capture in whole ticks (at least two ticks of window
// and one of hold, at most 5m each), so that a rule proven on a short
// capture holds on its own series; on a capture of 20 minutes or more
// they are the usual [5m] and for: 5m.
func Scale(s *Set) (window, hold time.Duration) {
	span := time.Duration(s.Len()-1) * s.Interval
	q := span / 4 / s.Interval * s.Interval
	return min(max(q, 2*s.Interval), 5*time.Minute), min(max(q, s.Interval), 5*time.Minute)
}

// Production gives the rate window and hold of a rule to paste, for a
// Prometheus that scrapes every scrape: 5m each, as the usual disk rules
// have, or four scrapes when that is longer (a rate needs two samples in
// its window, and a missed scrape must not empty it).
func Production(scrape time.Duration) (window, hold time.Duration) {
	w := max(5*time.Minute, 4*scrape)
	return w, w
}

// ProveScaled proves the rule mk builds at the bundle's resolution
// (Scale: the windows a capture of seconds can hold) and publishes it at
// the production window and hold pw, ph: the alert's Expr and For are the
// rule to paste, its ProofExpr and ProofFor the one evaluated; ok is
// false when that would not have fired.
func ProveScaled(s *Set, mk func(w, hold time.Duration) Rule, pw, ph time.Duration) (content.Alert, bool) {
	w, h := Scale(s)
	a, ok := Prove(s, mk(w, h))
	if !ok {
		return a, false
	}
	prod := mk(pw, ph).Alert(s.Start, 0)
	a.ProofExpr, a.ProofFor = a.Expr, a.For
	a.Expr, a.For, a.Annotations = prod.Expr, prod.For, prod.Annotations
	return a, true
}

// Prove evaluates r on s and returns it as the report's alert with the
// time it would first have fired; ok is false when it would not have
// fired within the capture (a report proposes no such rule).
func Prove(s *Set, r Rule) (content.Alert, bool) {
	f, ok := FirstFiring(s, r.Expr, r.For)
	if !ok {
		return content.Alert{}, false
	}
	a := r.Alert(s.Start, f.At)
	a.SeriesLabels = f.Labels
	return a, true
}

// Alert is r as the report's alert, first firing at offset from start.
func (r Rule) Alert(start time.Time, offset time.Duration) content.Alert {
	a := content.Alert{Name: r.Name, Kind: "prometheus", For: Duration(r.For), ProofFor: Duration(r.For), Labels: r.Labels, Annotations: r.Annotations,
		FiresAt: start.Add(offset).UTC(), FiresAfter: offset.Seconds(), Finding: r.Finding, Note: r.Note}
	if r.Expr != nil {
		a.Expr = r.Expr.String()
	} else {
		a.Kind, a.Expr = "loki", r.LogQL
	}
	a.ProofExpr = a.Expr
	return a
}
