package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
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
	// Rate shows iotop's rates over each interval instead of the bytes
	// accumulated from the capture's start.
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

// Schema names the JSON of a replayed view (iorca replay --format json).
const Schema = "iorca.replay/v1"

// Document is what a view prints: sysstat's banner line for the sysstat
// views, then its blocks.
type Document struct {
	Schema string `json:"schema"`
	View   string `json:"view"`
	// Banner is printed once before the blocks (iostat's and pidstat's
	// "Linux 6.1.0 (node1) ..." line).
	Banner []string `json:"banner,omitempty"`
	Blocks []Block  `json:"blocks"`
}

// Block is one report of a view: what one tool invocation would print
// for one interval or moment.
type Block struct {
	Title string `json:"title"`
	From  int    `json:"from_tick"`
	To    int    `json:"to_tick"`
	// Time is the end of the interval, or the moment; absent for a
	// block that is of no one moment (a strace summary).
	Time time.Time `json:"time,omitzero"`
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
	// Sysstat views print sysstat's banner line first.
	Sysstat bool
	run     func(m *model.Model, o Options) ([]Block, error)
}

// Views lists every view, in the order help shows them.
var Views = []View{
	{Name: "iotop", Like: "iotop -aoP", Help: "per-process disk read/write accumulated from the capture's start as iotop -a (--rate: the interval's rates), in iotop-c's units; IO% from delay accounting; USER the name from the node's /etc/passwd (the uid in bundles without it), PRIO be/(nice+20)/5 (the bundle has no ioprio)", Interval: true, run: iotop},
	{Name: "iostat", Like: "iostat -dxk", Help: "per-device r/s, w/s, kB/s, merges, await, request size, aqu-sz, %util", Interval: true, Sysstat: true, run: iostat},
	{Name: "pidstat", Like: "pidstat -d", Help: "per-process kB_rd/s, kB_wr/s, kB_ccwr/s, iodelay", Interval: true, Sysstat: true, run: pidstat},
	{Name: "ps", Like: "ps -eo pid,ppid,uid,stat,pcpu,nlwp,args", Help: "the process table at a tick, with containers", run: ps},
	{Name: "pidio", Like: "cat /proc/PID/io", Help: "one process's raw IO counters and their deltas per tick (needs PID)", run: pidio},
	{Name: "strace", Like: "strace -c, per file", Help: "per target: syscalls by type, count, bytes, latency, size histogram, files, write->fsync", run: straceView},
	{Name: "findmnt", Like: "findmnt -l / findmnt -T PATH", Help: "the mount table; with --target PATH the mount holding it and its overlay layers", run: findmnt},
	{Name: "timeline", Like: "", Help: "one line per tick: busiest device util/await, top writer, PSI some/full % of the tick (from the totals, as --trigger psi_some; not avg10), dirty memory, blocked tasks", run: timeline},
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

// Document computes a view as it prints: the banner, then the blocks.
func (v View) Document(m *model.Model, o Options) (Document, error) {
	blocks, err := v.Run(m, o)
	if err != nil {
		return Document{}, err
	}
	if blocks == nil {
		blocks = []Block{} // "blocks": [], not null, for a capture of one tick
	}
	d := Document{Schema: Schema, View: v.Name, Blocks: blocks}
	if v.Sysstat {
		d.Banner = []string{SysstatBanner(m)}
	}
	return d, nil
}

// SysstatBanner is the line sysstat's tools print first (print_gal_header):
// system, kernel release, host, date, machine, CPUs. The date is the
// capture's first tick in ISO form, as sysstat prints it with
// S_TIME_FORMAT=ISO, so that it reads the same in every locale.
func SysstatBanner(m *model.Model) string {
	h := m.Manifest.Host
	return fmt.Sprintf("Linux %s (%s) \t%s \t_%s_\t(%d CPU)", h.KernelRelease, h.Hostname,
		m.Ticks[0].Wall.UTC().Format("2006-01-02"), h.Arch, h.CPUs)
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

// Text renders a view as the tools print: the banner and a blank line,
// then per block a title line, header lines, the aligned table, a blank
// line. Tables of the same columns share their widths, so that a column
// stays put from one block to the next, as the tools' fixed widths do.
func Text(w io.Writer, d Document) error {
	for _, l := range d.Banner {
		fmt.Fprintln(w, l)
	}
	if len(d.Banner) > 0 {
		fmt.Fprintln(w)
	}
	widths := sharedWidths(d.Blocks)
	for _, b := range d.Blocks {
		fmt.Fprintln(w, b.Title)
		for _, h := range b.Header {
			fmt.Fprintln(w, h)
		}
		t := *b.Table
		t.MinWidths = widths[columnNames(&t)]
		if err := t.Text(w); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// sharedWidths is, per set of columns, the widest each column is in any
// block.
func sharedWidths(blocks []Block) map[string][]int {
	out := map[string][]int{}
	for _, b := range blocks {
		key := columnNames(b.Table)
		ws := b.Table.Widths()
		if old, ok := out[key]; ok {
			for i := range ws {
				ws[i] = max(ws[i], old[i])
			}
		}
		out[key] = ws
	}
	return out
}

func columnNames(t *table.Table) string {
	var b strings.Builder
	for _, c := range t.Columns {
		b.WriteString(c.Name + "\x00")
	}
	return b.String()
}

// JSON renders a view as one JSON document (schema Schema), each row an
// object keyed by its columns' snake_case names.
func JSON(w io.Writer, d Document) error {
	out := d
	out.Blocks = make([]Block, len(d.Blocks))
	for i, b := range d.Blocks {
		t := *b.Table
		t.Columns = slices.Clone(t.Columns)
		for j, k := range Keys(&t) {
			t.Columns[j].Key = k
		}
		b.Table = &t
		out.Blocks[i] = b
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

var (
	perSecond = regexp.MustCompile(`/s\b`)
	percent   = regexp.MustCompile(`^%(.*)$|^(.*)%$`)
	nonWord   = regexp.MustCompile(`[^a-z0-9]+`)
	compare   = strings.NewReplacer(">=", " ge ", "<=", " le ", "<", " lt ", ">", " gt ")
)

// SnakeKey is a column's JSON key made of its name: lower case, "/s" as
// _per_s, a % before or after as _pct, < and >= as lt and ge, every
// other run of punctuation one underscore ("rkB/s" rkb_per_s, "%util"
// util_pct, "TIME%" time_pct, "<64 B" lt_64_b).
func SnakeKey(name string) string {
	s := compare.Replace(strings.ToLower(name))
	s = perSecond.ReplaceAllString(s, "_per_s")
	s = percent.ReplaceAllString(s, "${1}${2}_pct")
	s = nonWord.ReplaceAllString(s, "_")
	return strings.Trim(s, "_")
}

// Keys are the JSON keys of a table's columns, in order.
func Keys(t *table.Table) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Key
		if c.Key == "" {
			out[i] = SnakeKey(c.Name)
		}
	}
	return out
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
