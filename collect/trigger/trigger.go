// Package trigger decides when a capture should start: a condition on the
// node's own figures — iostat -x of a device, the node's IO pressure —
// held for a number of consecutive intervals. It reads only
// /proc/uptime, /proc/diskstats and /proc/pressure/io, so that waiting
// costs a few reads a second and no walk of the processes.
//
// An expression is a comma-separated list of conditions, all of which
// must hold in the same interval:
//
//	util>80,await>10          on any one device (the same device for both)
//	dev=sda:util>80           on sda only
//	psi_some>20               the node's PSI io "some" share of the interval
//	wkB/s>50000,psi_full>5    a device's writes and the node's pressure
//
// Device figures are the columns of iostat -x, computed as the analyzer
// computes them (internal/iostat), so a trigger fires on the figures the
// report will show.
package trigger

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/iorca/iorca/internal/iostat"
	"github.com/iorca/iorca/internal/procfs"
)

// Expr is a parsed trigger expression.
type Expr struct {
	// Text is the expression as given.
	Text string
	// Dev restricts the device conditions to one device; "" is any.
	Dev    string
	Device []Cond
	Node   []Cond
}

// Cond is one comparison of a named figure with a value.
type Cond struct {
	Name  string
	Op    string
	Value float64
}

func (c Cond) String() string {
	return c.Name + c.Op + strconv.FormatFloat(c.Value, 'g', -1, 64)
}

func (c Cond) holds(v float64) bool {
	switch c.Op {
	case ">":
		return v > c.Value
	case ">=":
		return v >= c.Value
	case "<":
		return v < c.Value
	case "<=":
		return v <= c.Value
	}
	return false
}

// deviceFigures are the iostat -x columns a condition may name.
var deviceFigures = map[string]func(iostat.Stat) float64{
	"util":    func(s iostat.Stat) float64 { return s.Util },
	"await":   func(s iostat.Stat) float64 { return s.Await },
	"r_await": func(s iostat.Stat) float64 { return s.RAwait },
	"w_await": func(s iostat.Stat) float64 { return s.WAwait },
	"f_await": func(s iostat.Stat) float64 { return s.FAwait },
	"aqu-sz":  func(s iostat.Stat) float64 { return s.AquSz },
	"r/s":     func(s iostat.Stat) float64 { return s.RPS },
	"w/s":     func(s iostat.Stat) float64 { return s.WPS },
	"f/s":     func(s iostat.Stat) float64 { return s.FPS },
	"tps":     func(s iostat.Stat) float64 { return s.TPS },
	"rkB/s":   func(s iostat.Stat) float64 { return s.RkBPS },
	"wkB/s":   func(s iostat.Stat) float64 { return s.WkBPS },
}

// nodeFigures are the node's figures a condition may name: the share of
// the interval (percent) in which some or all non-idle tasks waited for
// IO, from the PSI totals.
var nodeFigures = []string{"psi_some", "psi_full"}

// Names lists every figure an expression may name.
func Names() []string {
	var out []string
	for n := range deviceFigures {
		out = append(out, n)
	}
	sort.Strings(out)
	return append(out, nodeFigures...)
}

// Parse reads an expression. Its errors are one line that names the
// part at fault.
func Parse(text string) (*Expr, error) {
	e := &Expr{Text: text}
	rest := strings.TrimSpace(text)
	if rest == "" {
		return nil, errors.New("empty trigger expression")
	}
	if after, ok := strings.CutPrefix(rest, "dev="); ok {
		dev, conds, ok := strings.Cut(after, ":")
		if !ok || dev == "" || strings.ContainsAny(dev, " ,/") {
			return nil, fmt.Errorf("trigger %q: want dev=NAME:CONDITIONS, as in dev=sda:util>80", text)
		}
		e.Dev, rest = dev, conds
	}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		c, err := parseCond(part)
		if err != nil {
			return nil, fmt.Errorf("trigger %q: %w", text, err)
		}
		if slices.Contains(nodeFigures, c.Name) {
			e.Node = append(e.Node, c)
		} else {
			e.Device = append(e.Device, c)
		}
	}
	if e.Dev != "" && len(e.Device) == 0 {
		return nil, fmt.Errorf("trigger %q: dev=%s names a device but no device figure (%s)", text, e.Dev, strings.Join(deviceNames(), ", "))
	}
	return e, nil
}

func deviceNames() []string {
	var out []string
	for n := range deviceFigures {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func parseCond(s string) (Cond, error) {
	if s == "" {
		return Cond{}, errors.New("an empty condition (two commas, or a comma at an end)")
	}
	i := strings.IndexAny(s, "<>")
	if i <= 0 {
		return Cond{}, fmt.Errorf("condition %q: want NAME>VALUE (or >=, <, <=)", s)
	}
	name, op, val := strings.TrimSpace(s[:i]), s[i:i+1], s[i+1:]
	if strings.HasPrefix(val, "=") {
		op, val = op+"=", val[1:]
	}
	if name == "aqu_sz" {
		name = "aqu-sz"
	}
	if _, ok := deviceFigures[name]; !ok && !slices.Contains(nodeFigures, name) {
		return Cond{}, fmt.Errorf("unknown figure %q in %q; known: %s", name, s, strings.Join(Names(), ", "))
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "%")), 64)
	if err != nil || v != v {
		return Cond{}, fmt.Errorf("condition %q: %q is not a number", s, val)
	}
	return Cond{Name: name, Op: op, Value: v}, nil
}

// Sample is what a trigger reads at one moment.
type Sample struct {
	// MonoNS is when the sample was read; UptimeCS /proc/uptime in
	// centiseconds (iostat's interval).
	MonoNS   int64
	UptimeCS uint64
	Disks    []procfs.DiskStat
	PSI      *procfs.PSI
}

// ParseSample builds a sample from the three files' text; a file that is
// missing or does not parse leaves its part empty.
func ParseSample(mono int64, uptime, diskstats, psi []byte) Sample {
	s := Sample{MonoNS: mono}
	if u, err := procfs.ParseUptime(uptime); err == nil {
		s.UptimeCS = u.Centiseconds
	}
	if ds, err := procfs.ParseDiskstats(diskstats); err == nil {
		s.Disks = ds
	}
	if len(psi) > 0 {
		if p, err := procfs.ParsePSI(psi); err == nil {
			s.PSI = &p
		}
	}
	return s
}

// Outcome is an expression's evaluation over one interval.
type Outcome struct {
	Held bool
	// Device is the device whose figures held ("" with only node
	// conditions); Figures the value of every condition's figure there,
	// by name.
	Device  string
	Figures map[string]float64
}

// Eval evaluates the expression over the interval from prev to cur. With
// device conditions it looks at every device in cur (or only Dev) and
// takes the first, by name, on which all of them hold; when none does,
// the figures are those of the device that came closest (the most
// conditions held, then the highest first figure), so that a wait that
// never fires can say how near it came.
func (e *Expr) Eval(prev, cur Sample) Outcome {
	out := Outcome{Figures: map[string]float64{}}
	nodeHeld := true
	for _, c := range e.Node {
		v, ok := psiShare(prev, cur, c.Name)
		out.Figures[c.Name] = v
		if !ok || !c.holds(v) {
			nodeHeld = false
		}
	}
	if len(e.Device) == 0 {
		out.Held = nodeHeld && len(e.Node) > 0
		return out
	}
	before := map[string]procfs.DiskStat{}
	for _, d := range prev.Disks {
		before[d.Name] = d
	}
	// The interval as the model measures it (model.itvCS): the uptime
	// delta, or the monotonic clock without one.
	itv := uint64(max((cur.MonoNS-prev.MonoNS)/1e7, 1))
	if prev.UptimeCS > 0 && cur.UptimeCS > prev.UptimeCS {
		itv = cur.UptimeCS - prev.UptimeCS
	}
	bestHeld, bestFirst := -1, -1.0
	disks := slices.Clone(cur.Disks)
	sort.Slice(disks, func(i, j int) bool { return disks[i].Name < disks[j].Name })
	for _, d := range disks {
		if e.Dev != "" && d.Name != e.Dev {
			continue
		}
		p, ok := before[d.Name]
		if !ok {
			continue // a device new in this interval has no rates yet
		}
		st := iostat.Between(p, d, itv)
		held := 0
		figs := map[string]float64{}
		for _, c := range e.Device {
			v := deviceFigures[c.Name](st)
			figs[c.Name] = v
			if c.holds(v) {
				held++
			}
		}
		first := figs[e.Device[0].Name]
		if held > bestHeld || (held == bestHeld && first > bestFirst) {
			bestHeld, bestFirst = held, first
			out.Device = d.Name
			for k, v := range figs {
				out.Figures[k] = v
			}
		}
		if held == len(e.Device) {
			break
		}
	}
	out.Held = nodeHeld && bestHeld == len(e.Device)
	return out
}

// psiShare is the percentage of the interval in which some (or all)
// non-idle tasks were stalled on IO: the growth of the PSI total over the
// interval's length, as the analyzer computes it.
func psiShare(prev, cur Sample, name string) (float64, bool) {
	if prev.PSI == nil || cur.PSI == nil || cur.MonoNS <= prev.MonoNS {
		return 0, false
	}
	a, b := prev.PSI.Some, cur.PSI.Some
	if name == "psi_full" {
		a, b = prev.PSI.Full, cur.PSI.Full
	}
	if a == nil || b == nil || b.TotalUS < a.TotalUS {
		return 0, false
	}
	return float64(b.TotalUS-a.TotalUS) / (float64(cur.MonoNS-prev.MonoNS) / 1e3) * 100, true
}

// Watch counts consecutive intervals in which an expression held.
type Watch struct {
	Expr *Expr
	// For is how many consecutive intervals must hold.
	For  int
	prev *Sample
	run  int
	// Last is the last interval's outcome; Fired the outcomes of the
	// run that fired, oldest first.
	Last  Outcome
	Fired []Outcome
	runs  []Outcome
}

// Add takes the next sample and reports whether the trigger fires: the
// expression held in the last For intervals.
func (w *Watch) Add(s Sample) bool {
	if w.prev == nil {
		w.prev = &s
		return false
	}
	o := w.Expr.Eval(*w.prev, s)
	*w.prev = s
	w.Last = o
	if !o.Held {
		w.runs = w.runs[:0]
		return false
	}
	w.runs = append(w.runs, o)
	if len(w.runs) > w.For {
		w.runs = w.runs[1:]
	}
	if len(w.runs) >= max(1, w.For) {
		w.Fired = slices.Clone(w.runs)
		return true
	}
	return false
}

// Held is how many consecutive intervals have held so far.
func (w *Watch) Held() int { return len(w.runs) }
