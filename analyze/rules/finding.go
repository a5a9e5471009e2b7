package rules

import (
	"github.com/iorca/iorca/report/content"
)

// The findings are part of the report's content; rules speak of them by
// these names.
type (
	Severity   = content.Severity
	Confidence = content.Confidence
	Finding    = content.Finding
	Subjects   = content.Subjects
	Evidence   = content.Evidence
	Horizon    = content.Horizon
	Mitigation = content.Mitigation
	Verdict    = content.Verdict
	Culprit    = content.Culprit
)

// Severities, confidences and horizons, as rules write them.
const (
	Info     = content.Info
	Warning  = content.Warning
	Critical = content.Critical

	Low    = content.Low
	Medium = content.Medium
	High   = content.High

	Immediate = content.Immediate
	ShortTerm = content.ShortTerm
	LongTerm  = content.LongTerm
)
