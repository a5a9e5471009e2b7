package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/table"
)

// Options select what a view shows.
type Options struct {
	// Tick is the tick to show (the end of the interval); -1 shows every
	// tick of an interval view, or the last tick of a snapshot view.
	Tick int
	// Window is the interval length in ticks ending at Tick (default 1).
	Window int
	// Summary shows one block over the whole capture.
	Summary bool
	// Rate shows iotop bandwidth instead of accumulated bytes.
	Rate bool
	// All shows idle devices, partitions and processes too.
	All bool
	// PID is the process of pidio, the namespace of findmnt.
	PID int
	// Target is findmnt -T PATH.
	Target string
	// Marks label ticks in the timeline: the incident's onset, the
	// trigger that started the capture.
	Marks map[int]string
}

// Block is one report of a view: what one tool invocation would print
// for one interval or moment.
type Block struct {
	Title string    `json:"title"`
	From  int       `json:"from_tick"`
	To    int       `json:"to_tick"`
	Time  time.Time `json:"time"`
	// Seconds is the interval the rates cover (0 for a snapshot).
	Seconds float64      `json:"seconds"`
	Header  []string     `json:"header,omitempty"`
	Table   *table.Table `json:"rows"`
}

// View is one replayable tool.
type View struct {
	Name string
	Like string
	Help string
	// Interval views compute rates between ticks.
	Interval bool
	run      func(m *model.Model, o Options) ([]Block, error)
}

// Views lists every view, in the order help shows them.
var Views = []View{
	{Name: "iotop", Like: "iotop -aoP", Help: "per-process disk read/write (accumulated, or --rate), IO% from delay accounting", Interval: true, run: iotop},
	{Name: "iostat", Like: "iostat -dxk", Help: "per-device r/s, w/s, kB/s, merges, await, request size, aqu-sz, %util", Interval: true, run: iostat},
	{Name: "pidstat", Like: "pidstat -d", Help: "per-process kB_rd/s, kB_wr/s, kB_ccwr/s, iodelay", Interval: true, run: pidstat},
	{Name: "ps", Like: "ps -eo pid,ppid,uid,stat,pcpu,nlwp,args", Help: "the process table at a tick, with containers", run: ps},
	{Name: "pidio", Like: "cat /proc/PID/io", Help: "one process's raw IO counters and their deltas per tick (needs PID)", run: pidio},
	{Name: "strace", Like: "strace -c, per file", Help: "per target: syscalls by type, count, bytes, latency, size histogram, files, write->fsync", run: straceView},
	{Name: "findmnt", Like: "findmnt -l / findmnt -T PATH", Help: "the mount table; with --target PATH the mount holding it and its overlay layers", run: findmnt},
	{Name: "timeline", Like: "", Help: "one line per tick: busiest device util/await, top writer, PSI, dirty memory, blocked tasks", run: timeline},
	{Name: "biotop", Like: "biotop (bcc)", Help: "per device, who holds its time (own requests, writeback and journal commits caused) and their latency, from the block trace", Interval: true, run: biotop},
	{Name: "biolatency", Like: "biolatency -D (bcc)", Help: "per device, the service-time (and queue-time) distribution of the block trace's requests", run: biolatency},
}

// Find returns the view named name.
func Find(name string) (View, bool) {
	for _, v := range Views {
		if v.Name == name {
			return v, true
		}
	}
	return View{}, false
}

// Run computes a view.
func (v View) Run(m *model.Model, o Options) ([]Block, error) {
	if len(m.Ticks) == 0 {
		return nil, fmt.Errorf("the bundle has no ticks")
	}
	if o.Tick >= len(m.Ticks) {
		return nil, m.CheckTick(o.Tick)
	}
	if o.Window <= 0 {
		o.Window = 1
	}
	return v.run(m, o)
}

// intervals returns the (from, to) tick pairs an interval view reports.
// A from of -1 means "since boot", as iostat's first report.
func intervals(m *model.Model, o Options) [][2]int {
	last := len(m.Ticks) - 1
	switch {
	case o.Summary:
		return [][2]int{{0, last}}
	case o.Tick >= 0:
		from := o.Tick - o.Window
		if o.Tick == 0 {
			from = -1
		}
		return [][2]int{{max(from, 0), o.Tick}}
	}
	var out [][2]int
	for k := 1; k <= last; k++ {
		out = append(out, [2]int{k - 1, k})
	}
	return out
}

// snapshotTick is the tick a snapshot view shows.
func snapshotTick(m *model.Model, o Options) int {
	if o.Tick >= 0 {
		return o.Tick
	}
	return len(m.Ticks) - 1
}

func blockTitle(m *model.Model, from, to int) string {
	t := m.Ticks[to].Wall.UTC().Format("2006-01-02 15:04:05.000 UTC")
	if from == to {
		return fmt.Sprintf("tick %d at %s", to, t)
	}
	return fmt.Sprintf("ticks %d-%d, %.2f s to %s", from, to, m.Seconds(from, to), t)
}

// Text renders blocks as the tools print: a title line, header lines,
// the aligned table, a blank line.
func Text(w io.Writer, blocks []Block) error {
	for _, b := range blocks {
		fmt.Fprintln(w, b.Title)
		for _, h := range b.Header {
			fmt.Fprintln(w, h)
		}
		if err := b.Table.Text(w); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// JSON renders blocks as one JSON document.
func JSON(w io.Writer, view string, blocks []Block) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		View   string  `json:"view"`
		Blocks []Block `json:"blocks"`
	}{view, blocks})
}

// command is a process's command line for display, or [comm].
func command(p *model.Process) string {
	if len(p.Cmdline) > 0 {
		return strings.Join(p.Cmdline, " ")
	}
	if p.Kernel {
		return "[" + p.Comm + "]"
	}
	return p.Comm
}

func containerName(p *model.Process) string {
	if p.Container != nil {
		return p.Container.Name
	}
	if c := p.Serves(); c != nil {
		return "(runtime of " + c.Name + ")"
	}
	return ""
}

// pointAt returns the process's sample at tick n, nil when it was not
// sampled then.
func pointAt(m *model.Model, p *model.Process, n int) *model.Point {
	pt, ok := m.PointAt(p, n)
	if !ok {
		return nil
	}
	return &pt
}
