// Package pipeline is the analyzer's one way from a bundle to a report:
// the bundle is loaded into a model, diagnosed over its window by the
// rules and the verdict, and explained as the report's content. Every
// command of iorca goes through it, with the user's thresholds.
package pipeline

import (
	"errors"
	"fmt"
	"github.com/iorca/iorca/analyze/alerts"

	"github.com/iorca/iorca/analyze/explain"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// Options are what a user can change about an analysis.
type Options struct {
	Thresholds window.Thresholds
	// Limits bound what reading a bundle may cost (iorca
	// --max-bundle-bytes).
	Limits bundle.Limits
	// Charts adds the charts of the HTML report to the content.
	Charts bool
	// Salvage reads a damaged bundle up to its damage (model.LoadSalvage)
	// instead of refusing it.
	Salvage bool
}

// Defaults are the options of an analysis nobody tuned.
func Defaults() Options {
	return Options{Thresholds: window.Defaults(), Limits: bundle.DefaultLimits}
}

// Result is one bundle analysed.
type Result struct {
	Diagnosis *verdict.Diagnosis
	Report    *content.Report
	// Series are the bundle's counters as exporters expose them, the
	// series the report's alerts were proven on (nil without alerts).
	Series *alerts.Set
}

// LoadError is a bundle that could not be read (not a bundle, truncated,
// corrupt, hostile): its message is one line naming the file and the
// problem.
type LoadError struct{ Err error }

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// Load reads and models the bundle at path within lim; its error is a
// *LoadError. A bundle over a bound is refused whole, never analysed in
// part: what is left out would be evidence, and the report cannot say
// what it held.
func Load(path string, lim bundle.Limits) (*model.Model, error) { return load(path, lim, false) }

func load(path string, lim bundle.Limits, salvage bool) (*model.Model, error) {
	loadFile := model.LoadFile
	if salvage {
		loadFile = model.LoadSalvage
	}
	m, err := loadFile(path, lim)
	if errors.Is(err, bundle.ErrTooLarge) {
		return nil, &LoadError{fmt.Errorf("%w (--max-bundle-bytes raises the bounds)", err)}
	}
	if err != nil {
		return nil, &LoadError{err}
	}
	return m, nil
}

// Analyze diagnoses a bundle's model and explains it. path names the
// bundle in the report.
func Analyze(path string, m *model.Model, o Options) *Result {
	d := verdict.Diagnose(m, o.Thresholds)
	rc, series := explain.BuildWithSeries(path, d)
	if o.Charts {
		rc.Charts = explain.Charts(d)
	}
	return &Result{Diagnosis: d, Report: rc, Series: series}
}

// Run loads, diagnoses and explains the bundle at path.
func Run(path string, o Options) (*Result, error) {
	m, err := load(path, o.Limits, o.Salvage)
	if err != nil {
		return nil, err
	}
	return Analyze(path, m, o), nil
}
