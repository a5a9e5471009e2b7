package trigger

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		dev     string
		device  string
		node    string
		wantErr string
	}{
		{in: "util>80,await>10", device: "util>80 await>10"},
		{in: "dev=sda:util>=80", dev: "sda", device: "util>=80"},
		{in: "psi_some>20", node: "psi_some>20"},
		{in: " wkB/s>50000 , psi_full>5% ", device: "wkB/s>50000", node: "psi_full>5"},
		{in: "aqu_sz>4,r_await<=2.5", device: "aqu-sz>4 r_await<=2.5"},
		{in: "", wantErr: "empty trigger expression"},
		{in: "utl>80", wantErr: `unknown figure "utl"`},
		{in: "util=80", wantErr: "want NAME>VALUE"},
		{in: "util>eighty", wantErr: `"eighty" is not a number`},
		{in: "util>80,,await>1", wantErr: "empty condition"},
		{in: "dev=:util>1", wantErr: "want dev=NAME:CONDITIONS"},
		{in: "dev=sda:psi_some>1", wantErr: "names a device but no device figure"},
		{in: ">80", wantErr: "want NAME>VALUE"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse(%q) = %v, want one line saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		join := func(cs []Cond) string {
			var s []string
			for _, c := range cs {
				s = append(s, c.String())
			}
			return strings.Join(s, " ")
		}
		if e.Dev != tt.dev || join(e.Device) != tt.device || join(e.Node) != tt.node {
			t.Errorf("Parse(%q) = dev %q, device %q, node %q", tt.in, e.Dev, join(e.Device), join(e.Node))
		}
	}
}

// sysstatSample reads one of sysstat's test roots (the shared fixtures'
// sysstat/tests/rootN: real-shaped /proc files that its test suite runs
// iostat on). Its monotonic clock is taken from its uptime.
func sysstatSample(t *testing.T, root string) Sample {
	read := func(name string) []byte {
		return fixture.Read(t, filepath.Join("sysstat", "tests", root, "proc", name))
	}
	s := ParseSample(0, read("uptime"), read("diskstats"), read("pressure/io"))
	s.MonoNS = int64(s.UptimeCS) * 1e7
	return s
}

// The figures a trigger sees are iostat's own: sysstat's expected output
// of `iostat -x --pretty --compact 1 2` (tests/expected.iostat-compact, its
// second report: root1 to root2) prints sdr at %util 6.42 and w_await
// 40.00, and sdq at 0.96.
func TestEvalOnSysstatRoots(t *testing.T) {
	a, b := sysstatSample(t, "root1"), sysstatSample(t, "root2")
	check := func(expr string, held bool, dev string, figs map[string]float64) {
		t.Helper()
		e, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		o := e.Eval(a, b)
		if o.Held != held || o.Device != dev {
			t.Errorf("%s: held %v on %q, want %v on %q", expr, o.Held, o.Device, held, dev)
		}
		for k, want := range figs {
			if got := o.Figures[k]; math.Abs(got-want) > 0.005 {
				t.Errorf("%s: %s = %.3f, sysstat prints %.2f", expr, k, got, want)
			}
		}
	}
	check("util>6", true, "sdr", map[string]float64{"util": 6.42})
	check("util>6,w_await>=40", true, "sdr", map[string]float64{"util": 6.42, "w_await": 40.00})
	check("dev=sdq:util>0.9", true, "sdq", map[string]float64{"util": 0.96})
	check("dev=sdq:util>6", false, "sdq", map[string]float64{"util": 0.96})
	// No device reaches 7 %: the closest is named with its figure.
	check("util>7", false, "sdr", map[string]float64{"util": 6.42})
	// PSI io some: total 96242289 -> 96968324 µs over the uptime delta
	// 7192.55 -> 7223.72 s, 2.33 % of the interval.
	check("psi_some>2", true, "", map[string]float64{"psi_some": 726035.0 / 31.17e6 * 100})
	check("psi_some>2,util>7", false, "sdr", nil)
}

func TestWatchFiresAfterConsecutiveIntervals(t *testing.T) {
	a, b := sysstatSample(t, "root1"), sysstatSample(t, "root2")
	e, _ := Parse("psi_some>2")
	// Alternate the two roots' PSI: every interval from a to b holds,
	// every interval back does not (the total went down).
	w := &Watch{Expr: e, For: 2}
	seq := []Sample{a, b, a, b}
	fired := false
	for _, s := range seq {
		fired = w.Add(s) || fired
	}
	if fired {
		t.Error("fired without two consecutive intervals holding")
	}
	// A third sample as far after b as b is after a, with as much stall.
	c := b
	psi, some := *b.PSI, *b.PSI.Some
	psi.Some, c.PSI = &some, &psi
	c.MonoNS += b.MonoNS - a.MonoNS
	some.TotalUS += b.PSI.Some.TotalUS - a.PSI.Some.TotalUS
	w = &Watch{Expr: e, For: 2}
	if w.Add(a) || w.Add(b) {
		t.Fatal("fired after one interval")
	}
	if !w.Add(c) {
		t.Fatalf("did not fire after two intervals held: %+v", w.Last)
	}
	if len(w.Fired) != 2 {
		t.Errorf("fired with %d intervals, want 2", len(w.Fired))
	}
}
