package alerts

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Expr is a PromQL expression built from parts: it renders as PromQL and
// evaluates on a Set as Prometheus 2 would at one instant.
type Expr interface {
	String() string
	eval(s *Set, t time.Duration) vector
}

// Selector is an instant vector selector: a metric and label equality
// matchers.
type Selector struct {
	Metric string
	Match  map[string]string
}

// Rate is rate(Selector[Window]).
type Rate struct {
	Sel    Selector
	Window time.Duration
}

// PredictLinear is predict_linear(Selector[Window], Horizon seconds).
type PredictLinear struct {
	Sel     Selector
	Window  time.Duration
	Horizon time.Duration
}

// Num is a scalar literal.
type Num float64

// Binary is an arithmetic (+ - * /), comparison (> < ==, filtering) or
// set (and) operation; vectors match one to one on all their labels.
type Binary struct {
	Op   string
	L, R Expr
}

// ClampMin is clamp_min(X, Min).
type ClampMin struct {
	X   Expr
	Min float64
}

// SumBy is sum by (By...) (X).
type SumBy struct {
	By []string
	X  Expr
}

func (s Selector) String() string {
	if len(s.Match) == 0 {
		return s.Metric
	}
	keys := sortedKeys(s.Match)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, s.Match[k])
	}
	return s.Metric + "{" + strings.Join(parts, ", ") + "}"
}

func (r Rate) String() string { return fmt.Sprintf("rate(%s[%s])", r.Sel, Duration(r.Window)) }

func (p PredictLinear) String() string {
	return fmt.Sprintf("predict_linear(%s[%s], %d)", p.Sel, Duration(p.Window), int64(p.Horizon.Seconds()))
}

func (n Num) String() string { return strconv.FormatFloat(float64(n), 'f', -1, 64) }

func (b Binary) String() string {
	l, r := b.L.String(), b.R.String()
	if lb, ok := b.L.(Binary); ok && precedence(lb.Op) < precedence(b.Op) {
		l = "(" + l + ")"
	}
	if rb, ok := b.R.(Binary); ok && precedence(rb.Op) <= precedence(b.Op) {
		r = "(" + r + ")"
	}
	return l + " " + b.Op + " " + r
}

// precedence is PromQL's binding of an operator, loosest first.
func precedence(op string) int {
	switch op {
	case "and":
		return 1
	case ">", "<", "==":
		return 2
	case "+", "-":
		return 3
	}
	return 4
}

func (c ClampMin) String() string { return fmt.Sprintf("clamp_min(%s, %s)", c.X, Num(c.Min)) }

func (s SumBy) String() string {
	return fmt.Sprintf("sum by (%s) (%s)", strings.Join(s.By, ", "), s.X)
}

// Duration writes d as a Prometheus duration ("90s" is "1m30s").
func Duration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.d
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
