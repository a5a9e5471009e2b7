package rules

import "github.com/iorca/iorca/analyze/window"

// Condition is one test a rule's finding passed: its deciding figure (an
// evidence figure) against a threshold. A figure that is a percentage is
// bounded: its margin is measured against the room left to 100 %.
type Condition struct {
	Figure    string
	Threshold func(window.Thresholds) float64
	// Below: the figure must be at most the threshold.
	Below   bool
	Bounded bool
	// What the figure counts, for the reason a confidence gives.
	What string
}

// Margin is how far v passes the threshold th, as a fraction: of the
// threshold, or for a bounded percentage of the room between it and
// 100 %. Negative when v does not pass (a finding raised for another
// reason in its group).
func (cond Condition) Margin(v, th float64) float64 {
	switch {
	case cond.Below:
		if v <= 0 {
			return 1 // no bytes per write at all: far below any bound
		}
		return th/v - 1
	case cond.Bounded && th < 100:
		return (v - th) / (100 - th)
	case th > 0:
		return v/th - 1
	}
	return 1
}

// deviceShareCondition is the condition of a finding raised for its
// share of a saturated device's time.
var deviceShareCondition = Condition{Figure: FigDeviceSharePct, Threshold: func(t window.Thresholds) float64 { return t.DeviceSharePct }, Bounded: true, What: "share of the device's time"}
