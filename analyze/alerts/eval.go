package alerts

import (
	"math"
	"sort"
	"strings"
	"time"
)

// lookback is how far back an instant selector finds a sample
// (Prometheus's default --query.lookback-delta).
const lookback = 5 * time.Minute

// sample is one element of an instant vector: its labels (without the
// metric name) and value.
type sample struct {
	labels map[string]string
	v      float64
}

type vector []sample

func key(l map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(l) {
		b.WriteString(k + "\x00" + l[k] + "\x00")
	}
	return b.String()
}

// matching are the series of s that sel selects.
func (s *Set) matching(sel Selector) []*Series {
	var out []*Series
	for _, x := range s.Series {
		if x.Metric != sel.Metric {
			continue
		}
		ok := true
		for k, v := range sel.Match {
			if x.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, x)
		}
	}
	return out
}

// point is a sample of a series at a time from the series' start.
type point struct {
	t time.Duration
	v float64
}

// points are x's samples in [t-w, t] (Prometheus 2 selects both ends).
func (s *Set) points(x *Series, t, w time.Duration) []point {
	var out []point
	for i, v := range x.Values {
		at := time.Duration(i) * s.Interval
		if at >= t-w && at <= t && !math.IsNaN(v) {
			out = append(out, point{at, v})
		}
	}
	return out
}

func (sel Selector) eval(s *Set, t time.Duration) vector {
	var out vector
	for _, x := range s.matching(sel) {
		if p := s.points(x, t, lookback); len(p) > 0 {
			out = append(out, sample{x.Labels, p[len(p)-1].v})
		}
	}
	return out
}

// ranged applies f to the samples in [t-w, t] of each series sel
// selects that has two or more there, and collects its results.
func (s *Set) ranged(sel Selector, t, w time.Duration, f func([]point) float64) vector {
	var out vector
	for _, x := range s.matching(sel) {
		if p := s.points(x, t, w); len(p) >= 2 {
			out = append(out, sample{x.Labels, f(p)})
		}
	}
	return out
}

// eval is Prometheus's extrapolatedRate for a counter.
func (r Rate) eval(s *Set, t time.Duration) vector {
	return s.ranged(r.Sel, t, r.Window, func(p []point) float64 {
		first, last := p[0], p[len(p)-1]
		delta := last.v - first.v
		prev := 0.0
		for _, q := range p {
			if q.v < prev {
				delta += prev
			}
			prev = q.v
		}
		toStart := (first.t - (t - r.Window)).Seconds()
		toEnd := (t - last.t).Seconds()
		sampled := (last.t - first.t).Seconds()
		avg := sampled / float64(len(p)-1)
		if delta > 0 && first.v >= 0 {
			if toZero := sampled * first.v / delta; toZero < toStart {
				toStart = toZero
			}
		}
		threshold := avg * 1.1
		span := sampled
		for _, d := range []float64{toStart, toEnd} {
			if d < threshold {
				span += d
			} else {
				span += avg / 2
			}
		}
		return delta * span / sampled / r.Window.Seconds()
	})
}

// eval is a least-squares line through the window's samples, taken
// Horizon past t.
func (p PredictLinear) eval(s *Set, t time.Duration) vector {
	return s.ranged(p.Sel, t, p.Window, func(pts []point) float64 {
		var n, sx, sy, sxy, sx2 float64
		constant := true
		for _, q := range pts {
			if q.v != pts[0].v {
				constant = false
			}
			dx := (q.t - t).Seconds()
			n++
			sx += dx
			sy += q.v
			sxy += dx * q.v
			sx2 += dx * dx
		}
		slope, intercept := 0.0, pts[0].v
		if !constant {
			slope = (sxy - sx*sy/n) / (sx2 - sx*sx/n)
			intercept = sy/n - slope*sx/n
		}
		return slope*p.Horizon.Seconds() + intercept
	})
}

func (n Num) eval(*Set, time.Duration) vector { return vector{{nil, float64(n)}} }

func (c ClampMin) eval(s *Set, t time.Duration) vector {
	var out vector
	for _, x := range c.X.eval(s, t) {
		out = append(out, sample{x.labels, math.Max(x.v, c.Min)})
	}
	return out
}

func (sb SumBy) eval(s *Set, t time.Duration) vector {
	sums := map[string]*sample{}
	var order []string
	for _, x := range sb.X.eval(s, t) {
		l := map[string]string{}
		for _, k := range sb.By {
			if v, ok := x.labels[k]; ok {
				l[k] = v
			}
		}
		k := key(l)
		if sums[k] == nil {
			sums[k] = &sample{labels: l}
			order = append(order, k)
		}
		sums[k].v += x.v
	}
	sort.Strings(order)
	var out vector
	for _, k := range order {
		out = append(out, *sums[k])
	}
	return out
}

func (b Binary) eval(s *Set, t time.Duration) vector {
	_, lScalar := b.L.(Num)
	_, rScalar := b.R.(Num)
	l, r := b.L.eval(s, t), b.R.eval(s, t)
	if b.Op == "and" {
		keep := map[string]bool{}
		for _, x := range r {
			keep[key(x.labels)] = true
		}
		var out vector
		for _, x := range l {
			if keep[key(x.labels)] {
				out = append(out, x)
			}
		}
		return out
	}
	var out vector
	apply := func(labels map[string]string, a, c float64) {
		switch b.Op {
		case ">", "<", "==":
			if (b.Op == ">" && a > c) || (b.Op == "<" && a < c) || (b.Op == "==" && a == c) {
				v := a
				if lScalar {
					v = c
				}
				out = append(out, sample{labels, v})
			}
		case "+":
			out = append(out, sample{labels, a + c})
		case "-":
			out = append(out, sample{labels, a - c})
		case "*":
			out = append(out, sample{labels, a * c})
		case "/":
			out = append(out, sample{labels, a / c})
		}
	}
	switch {
	case lScalar && rScalar:
		apply(nil, l[0].v, r[0].v)
	case rScalar:
		for _, x := range l {
			apply(x.labels, x.v, r[0].v)
		}
	case lScalar:
		for _, x := range r {
			apply(x.labels, l[0].v, x.v)
		}
	default:
		byKey := map[string]float64{}
		for _, x := range r {
			byKey[key(x.labels)] = x.v
		}
		for _, x := range l {
			if c, ok := byKey[key(x.labels)]; ok {
				apply(x.labels, x.v, c)
			}
		}
	}
	return out
}

// Firing is when an alert rule first fires on a set, as a rule group
// evaluated every Set.Interval from the set's start would fire it: its
// expression returns a result at every evaluation for at least For.
type Firing struct {
	// At is the time from the set's start; Labels the firing series'
	// labels (the rule's own labels not included).
	At     time.Duration
	Labels map[string]string
}

// FirstFiring evaluates expr with hold duration forDur at every
// evaluation of s; ok is false when it never fires within the set.
func FirstFiring(s *Set, expr Expr, forDur time.Duration) (Firing, bool) {
	active := map[string]time.Duration{}
	end := time.Duration(s.Len()-1) * s.Interval
	for t := time.Duration(0); t <= end; t += s.Interval {
		now := map[string]time.Duration{}
		res := expr.eval(s, t)
		sort.Slice(res, func(i, j int) bool { return key(res[i].labels) < key(res[j].labels) })
		for _, x := range res {
			k := key(x.labels)
			since, ok := active[k]
			if !ok {
				since = t
			}
			now[k] = since
			if t-since >= forDur {
				return Firing{At: t, Labels: x.labels}, true
			}
		}
		active = now
	}
	return Firing{}, false
}
