package content

// Chart is one figure of the HTML report, as data: the analysis decides
// what to draw, the renderer only draws it.
type Chart struct {
	// ID anchors the chart; Title says what to see in it; Alt is its
	// text alternative, the figures it shows in a sentence or two.
	ID, Title, Alt string
	// Kind is ChartLines (series over time), ChartStacked (series over
	// time, stacked) or ChartBars (one bar per category).
	Kind string
	// XLabel and YLabel name the axes with their units.
	XLabel, YLabel string
	// X holds the seconds since the capture's start of each point of a
	// time chart; Categories the bars' names of a bar chart.
	X          []float64
	Categories []string
	Series     []Series
	// Thresholds are horizontal lines (an alert level, a limit).
	Thresholds []ChartThreshold
	// Marks are vertical lines at a time (the onset, the trigger).
	Marks []Mark
	// YMax, when above 0, fixes the top of the y axis (100 for %util).
	YMax float64
}

// Series is one named line, area or set of bars.
type Series struct {
	Name   string
	Values []float64
}

// ChartThreshold is a horizontal line at Value.
type ChartThreshold struct {
	Label string
	Value float64
}

// Mark is a vertical line at X seconds.
type Mark struct {
	Label string
	X     float64
}

// Chart kinds.
const (
	ChartLines   = "lines"
	ChartStacked = "stacked"
	ChartBars    = "bars"
)
