package content

import (
	"time"

	"github.com/iorca/iorca/internal/table"
)

// Report is a whole report, as the analysis decided it.
type Report struct {
	// Title is the report's title line.
	Title string
	// Bundle is the bundle's file name (no directory: reports leave the
	// machine they were made on).
	Bundle string
	Host   string
	// Node is the node's name in its cluster, Labels the collector's
	// --label pairs (both empty when the collector had none).
	Node   string
	Labels map[string]string
	// WorstDevice is the device that hurts most (else the busiest) over
	// the window, nil without devices.
	WorstDevice *DeviceFigures
	// Intro is the line under the title: what was collected, how.
	Intro  Line
	Window Window
	// Partial is true when the collection stopped before its planned end.
	Partial bool

	Verdict Verdict
	// Headline is the verdict in at most 70 words: culprit, mechanism,
	// impact (the Markdown's verdict; Verdict.Summary is in full).
	Headline string
	// ConfidenceWhy says why the verdict's confidence is not higher.
	ConfidenceWhy string
	// Chain is the evidence chain: the steps an SRE would take, each
	// with its figures and the bundle members they come from. Empty
	// when the bundle has fewer than two ticks.
	Chain    []Step
	Findings []Finding
	// Mitigations are grouped by horizon; none when no finding is a
	// warning or worse.
	Mitigations []MitigationGroup
	Monitoring  Monitoring
	Appendix    Appendix
	// Charts are the HTML report's figures; none unless asked for
	// (explain.Charts).
	Charts []Chart
}

// DeviceFigures are one device's headline figures over the window.
type DeviceFigures struct {
	Name    string  `json:"name"`
	Util    float64 `json:"util"`
	AwaitMS float64 `json:"await_ms"`
}

// Window is the span of the capture the figures cover.
type Window struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds float64   `json:"seconds"`
	Ticks   int       `json:"ticks"`
	// BootID is the node's boot id at the capture: with the host and the
	// start it names the capture, however many copies of it are read.
	BootID string `json:"boot_id,omitempty"`
}

// Step is one step of the evidence chain.
type Step struct {
	Title string `json:"title"`
	// Source says which tool the step replays and from which members.
	Source Line   `json:"source"`
	Facts  []Fact `json:"facts"`
}

// Fact is one finding of a step, with an example line quoted from the
// bundle when there is one.
type Fact struct {
	Text  Line   `json:"text"`
	Quote string `json:"quote,omitempty"`
}

// MitigationGroup is the mitigations of one horizon, each action once,
// most severe finding first.
type MitigationGroup struct {
	Horizon Horizon
	Rows    []MitigationRow
}

// MitigationRow is one action and the findings it answers, most severe
// first.
type MitigationRow struct {
	Mitigation
	Findings []string
}

// Monitoring is what to watch per layer, and alert rules to paste.
type Monitoring struct {
	Metrics *table.Table
	// Alerts are the alert rules proposed, each proven on the bundle's
	// own series.
	Alerts []Alert
}

// Appendix holds the tables and the limits of what was seen.
type Appendix struct {
	// Iotop is iotop -aoP over the capture; nil without two ticks.
	Iotop *table.Table
	// Iostat is iostat -x over the capture; nil without two ticks.
	Iostat *table.Table
	// Dirty is the dirty page cache against its limits per tick, nil
	// when the bundle has no vmstat; DirtySettings the vm sysctls.
	Dirty         *table.Table
	DirtySettings Line
	// Mounts are the mounts the findings' files lie on; nil when none.
	Mounts *table.Table
	// Limits say what the collector could not see.
	Limits []Line
	// Thresholds are the rule thresholds that differ from their defaults,
	// by name; none when every default was used.
	Thresholds []Threshold
}

// Threshold is one rule threshold and its value.
type Threshold struct {
	Name  string
	Value float64
}
