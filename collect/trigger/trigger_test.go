package trigger

import (
	"math"
	"os"
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

// capturedSample reads one of three snapshots of /proc/uptime,
// /proc/diskstats and /proc/pressure/io taken one second apart on this
// project's machine while fio drove loop0 (testdata/README.md). Its
// monotonic clock is taken from its uptime.
func capturedSample(t *testing.T, root string) Sample {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", root, "proc", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	s := ParseSample(0, read("uptime"), read("diskstats"), read("pressure/io"))
	if s.UptimeCS == 0 || len(s.Disks) != 10 || s.PSI == nil || s.PSI.Full == nil {
		t.Fatalf("%s: a part of the sample did not parse: %+v", root, s)
	}
	s.MonoNS = int64(s.UptimeCS) * 1e7
	return s
}

// The figures a trigger sees are those sysstat's iostat printed on the
// same files (testdata/iostat-x-p-ALL.txt: its second report is root0 to
// root1, its third root1 to root2): loop0 at %util 21.92 then 19.46, w/s
// 434.62 then 416.22, r/s 152.88 then 147.75; vda's w_await 0.00 then
// 1.00 (three writes of 1 ms each).
func TestEvalOnCapturedSamples(t *testing.T) {
	r0, r1, r2 := capturedSample(t, "root0"), capturedSample(t, "root1"), capturedSample(t, "root2")
	check := func(expr string, a, b Sample, held bool, dev string, figs map[string]float64) {
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
				t.Errorf("%s: %s = %.4f, want %.4f", expr, k, got, want)
			}
		}
	}
	check("util>20", r0, r1, true, "loop0", map[string]float64{"util": 21.92})
	// No device reaches 20 % in the next second: the closest is named.
	check("util>20", r1, r2, false, "loop0", map[string]float64{"util": 19.46})
	check("w/s>400,r/s>140", r1, r2, true, "loop0", map[string]float64{"w/s": 416.22, "r/s": 147.75})
	check("dev=vda:w_await>=1", r0, r1, false, "vda", map[string]float64{"w_await": 0})
	check("dev=vda:w_await>=1", r1, r2, true, "vda", map[string]float64{"w_await": 1})
	// PSI io: some total 5406306 -> 5483541 -> 5546073 us, full 2561456
	// -> 2608949 -> 2654407 us, over 1.04 s then 1.11 s of uptime.
	check("psi_some>7", r0, r1, true, "", map[string]float64{"psi_some": 77235.0 / 1.04e6 * 100})
	check("psi_some>7", r1, r2, false, "", map[string]float64{"psi_some": 62532.0 / 1.11e6 * 100})
	check("psi_full>4,util>19", r1, r2, true, "loop0", map[string]float64{"psi_full": 45458.0 / 1.11e6 * 100, "util": 19.46})
}

func TestWatchOnCapturedSamples(t *testing.T) {
	seq := []Sample{capturedSample(t, "root0"), capturedSample(t, "root1"), capturedSample(t, "root2")}
	run := func(expr string, forN int) (*Watch, bool) {
		e, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		w := &Watch{Expr: e, For: forN}
		fired := false
		for _, s := range seq {
			fired = w.Add(s) || fired
		}
		return w, fired
	}
	// loop0 wrote more than 400 times a second in both intervals.
	if w, fired := run("w/s>400", 2); !fired || len(w.Fired) != 2 || w.Fired[0].Device != "loop0" || w.Held() != 2 {
		t.Errorf("w/s>400 for 2: fired %v, %+v", fired, w.Fired)
	}
	// util was over 20 % in the first interval only.
	if w, fired := run("util>20", 2); fired || w.Held() != 0 || w.Last.Figures["util"] >= 20 {
		t.Errorf("util>20 for 2: fired %v, last %+v", fired, w.Last)
	}
}
