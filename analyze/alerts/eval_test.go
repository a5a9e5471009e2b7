package alerts

import (
	"math"
	"testing"
	"time"
)

// rate extrapolates as Prometheus 2 does: a counter rising 1 a second,
// sampled every second, has rate 1 over a window its samples fill, and
// less where the window reaches before the first sample; a rule with
// for: fires one hold after its expression first returns.
func TestRateAndFiring(t *testing.T) {
	s := &Set{Interval: time.Second}
	x := s.Add("c", map[string]string{"d": "a"}, 7)
	for i := range x.Values {
		x.Values[i] = 100 + float64(i)
	}
	r := Rate{Selector{"c", map[string]string{"d": "a"}}, 2 * time.Second}
	if v := r.eval(s, 4*time.Second); len(v) != 1 || math.Abs(v[0].v-1) > 1e-9 {
		t.Errorf("rate at 4s = %+v, want 1", v)
	}
	// At 1s two samples lie in [−1s, 1s], the first 1 s after the
	// window's start: under 1.1 intervals, so the increase extrapolates
	// to the start.
	if v := r.eval(s, time.Second); len(v) != 1 || math.Abs(v[0].v-1) > 1e-9 {
		t.Errorf("rate at 1s = %+v, want 1", v)
	}
	// A counter that starts near zero extrapolates no further back than
	// to zero.
	y := s.Add("z", nil, 7)
	for i := range y.Values {
		y.Values[i] = 0.5 + float64(i)
	}
	if v := (Rate{Selector{"z", nil}, 2 * time.Second}).eval(s, time.Second); len(v) != 1 || math.Abs(v[0].v-0.75) > 1e-9 {
		t.Errorf("rate of a fresh counter at 1s = %+v, want 0.75", v)
	}
	f, ok := FirstFiring(s, Binary{">", r, Num(0.9)}, time.Second)
	if !ok || f.At != 2*time.Second || f.Labels["d"] != "a" {
		t.Errorf("fires %+v %v, want at 2s (true from 1s, held 1s)", f, ok)
	}
	if _, ok := FirstFiring(s, Binary{">", r, Num(2)}, 0); ok {
		t.Error("a rule above the counter's rate fires")
	}
	p := PredictLinear{Selector{"c", map[string]string{"d": "a"}}, 4 * time.Second, time.Hour}
	if v := p.eval(s, 6*time.Second); len(v) != 1 || math.Abs(v[0].v-(106+3600)) > 1e-6 {
		t.Errorf("predict_linear = %+v, want %v", v, 106+3600)
	}
}

func TestExprString(t *testing.T) {
	d := map[string]string{"device": "sda"}
	e := Binary{"and", Binary{">", Rate{Selector{"a", d}, 90 * time.Second}, Num(0.8)},
		Binary{">", Binary{"/", Rate{Selector{"b", d}, time.Minute}, ClampMin{Rate{Selector{"c", d}, time.Minute}, 1}}, Num(0.01)}}
	want := `rate(a{device="sda"}[1m30s]) > 0.8 and rate(b{device="sda"}[1m]) / clamp_min(rate(c{device="sda"}[1m]), 1) > 0.01`
	if got := e.String(); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if got := (Binary{"*", Binary{"-", Num(1), Binary{"/", Selector{"a", nil}, Selector{"b", nil}}}, Num(100)}).String(); got != "(1 - a / b) * 100" {
		t.Errorf("got %s", got)
	}
}
