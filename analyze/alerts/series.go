package alerts

import (
	"math"
	"time"
)

// Series is one time series as an exporter would expose it: a metric,
// its labels, and a value per tick of the bundle (NaN where the bundle
// has none).
type Series struct {
	Metric string
	Labels map[string]string
	Values []float64
}

// Set is the series of one bundle, sampled every Interval from the
// capture's first tick: tick n is at n×Interval (the collector's nominal
// tick times, as promtool's input series are spaced).
type Set struct {
	Interval time.Duration
	Start    time.Time
	Series   []*Series
}

// Len is the number of ticks.
func (s *Set) Len() int {
	n := 0
	for _, x := range s.Series {
		n = max(n, len(x.Values))
	}
	return n
}

// Add adds a series of n ticks, all absent, and returns it.
func (s *Set) Add(metric string, labels map[string]string, n int) *Series {
	x := &Series{Metric: metric, Labels: labels, Values: make([]float64, n)}
	for i := range x.Values {
		x.Values[i] = math.NaN()
	}
	s.Series = append(s.Series, x)
	return x
}

// Has reports whether the set holds a series of metric whose labels
// include match, with a value.
func (s *Set) Has(metric string, match map[string]string) bool {
	for _, x := range s.matching(Selector{metric, match}) {
		for _, v := range x.Values {
			if !math.IsNaN(v) {
				return true
			}
		}
	}
	return false
}
