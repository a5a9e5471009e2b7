package content

// ComparisonSide is one bundle's part of a comparison.
type ComparisonSide struct {
	Bundle  string  `json:"bundle"`
	Host    string  `json:"host"`
	Node    string  `json:"node,omitempty"`
	Kernel  string  `json:"kernel"`
	Start   string  `json:"start"`
	Seconds float64 `json:"seconds"`
	Verdict Verdict `json:"verdict"`
}

// FindingChange is a finding on one side or both.
type FindingChange struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Subject tells findings of one id apart (their device, or path).
	Subject        string `json:"subject,omitempty"`
	SeverityBefore string `json:"severity_before,omitempty"`
	SeverityAfter  string `json:"severity_after,omitempty"`
}

// ComparedFigure is one figure before and after.
type ComparedFigure struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// Change is the relative change, in percent (0 when before was 0).
func (f ComparedFigure) Change() float64 {
	if f.Before == 0 {
		return 0
	}
	return (f.After - f.Before) / f.Before * 100
}

// ComparedRow is one device's or application's figures.
type ComparedRow struct {
	Name    string           `json:"name"`
	Figures []ComparedFigure `json:"figures"`
}

// Comparison is two captures side by side (iorca diff).
type Comparison struct {
	Schema string         `json:"schema"`
	Before ComparisonSide `json:"before"`
	After  ComparisonSide `json:"after"`
	// Warnings say when the two are not like with like (two nodes, two
	// kernels).
	Warnings []string `json:"warnings"`
	// Resolved were warnings or worse before and are not after; New the
	// reverse; Unchanged are warnings or worse on both sides.
	Resolved  []FindingChange `json:"resolved"`
	New       []FindingChange `json:"new"`
	Unchanged []FindingChange `json:"unchanged"`
	Devices   []ComparedRow   `json:"devices"`
	Apps      []ComparedRow   `json:"applications"`
	// Timelines are the two captures' busiest device's %util and the
	// write rate on the same axes (seconds since each capture began).
	Timelines []Chart `json:"-"`
}

// NodeName is the side's node: its node name, else its hostname.
func (s ComparisonSide) NodeName() string {
	if s.Node != "" {
		return s.Node
	}
	return s.Host
}
