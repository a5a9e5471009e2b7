package replay

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The timeline's PSI columns are the interval's share from the PSI
// totals (model.PSIShare, what --trigger psi_some tests), not avg10, and
// the block says so.
func TestTimelinePSIIsTheIntervalShare(t *testing.T) {
	m := load(t, "fsync-storm")
	bs := run(t, m, "timeline", Options{Tick: -1})
	tb := bs[0].Table
	if !strings.Contains(strings.Join(bs[0].Header, " "), "not the kernel's avg10") {
		t.Errorf("the timeline does not say what its PSI columns are: %q", bs[0].Header)
	}
	checked := 0
	for r := range tb.Rows {
		k := int(column(t, tb, r, "tick").Num)
		some, full, ok := m.PSIShare(k-1, k)
		if !ok {
			continue
		}
		if got := column(t, tb, r, "PSI some%").Num; got != some {
			t.Errorf("tick %d: PSI some%% %v, model's share %v", k, got, some)
		}
		if got := column(t, tb, r, "PSI full%").Num; got != full {
			t.Errorf("tick %d: PSI full%% %v, model's share %v", k, got, full)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no tick with PSI in fsync-storm")
	}
}

// iotop's sizes scale as iotop-c's humanize_val (base 1024, threshold 2).
func TestIotopSize(t *testing.T) {
	for _, c := range []struct {
		v    float64
		rate bool
		want string
	}{
		{0, true, "   0.00 B/s"},
		{2048, true, "2048.00 B/s"},
		{2049, true, "   2.00 K/s"},
		{120 << 20, false, " 120.00 M  "},
		{3 << 30, false, "   3.00 G  "},
	} {
		if got := iotopSize(c.v, c.rate); got != c.want {
			t.Errorf("iotopSize(%v, %v) = %q, want %q", c.v, c.rate, got, c.want)
		}
	}
}

// PRIO is iotop's be/(nice+20)/5 for a task with no I/O priority set.
func TestIoprioFromNice(t *testing.T) {
	for nice, want := range map[int64]string{-20: "be/0", 0: "be/4", 5: "be/5", 19: "be/7"} {
		if got := ioprioFromNice(nice); got != want {
			t.Errorf("nice %d: %s, want %s", nice, got, want)
		}
	}
}

// iotop at a tick says whether its bytes accumulate from the capture's
// start or are the interval's rates; its rows carry PRIO and the uid.
func TestIotopSaysWhatItShows(t *testing.T) {
	m := load(t, "bulk-writer")
	acc := run(t, m, "iotop", Options{Tick: 5})
	rate := run(t, m, "iotop", Options{Tick: 5, Rate: true})
	if h := strings.Join(acc[0].Header, "\n"); !strings.Contains(h, "accumulate from the start of the capture (tick 0") {
		t.Errorf("accumulated iotop does not say so:\n%s", h)
	}
	if h := strings.Join(rate[0].Header, "\n"); !strings.Contains(h, "rates over this interval (ticks 4-5") {
		t.Errorf("iotop --rate does not say so:\n%s", h)
	}
	if len(acc[0].Table.Rows) == 0 {
		t.Fatal("no rows")
	}
	if p := column(t, acc[0].Table, 0, "PRIO").Text; !strings.HasPrefix(p, "be/") {
		t.Errorf("PRIO %q", p)
	}
	// The writer's accumulated bytes exceed its one interval's.
	a, r := column(t, acc[0].Table, 0, "DISK WRITE"), column(t, rate[0].Table, 0, "DISK WRITE")
	if a.Num <= r.Num*rate[0].Seconds || !strings.HasSuffix(a.Shown, "  ") || !strings.HasSuffix(r.Shown, "/s") {
		t.Errorf("accumulated %v (%q), rate %v (%q)", a.Num, a.Shown, r.Num, r.Shown)
	}
}

// iostat and pidstat print sysstat's banner first, and an interval
// view's columns keep their widths from block to block.
func TestSysstatBannerAndFixedWidths(t *testing.T) {
	m := load(t, "bulk-writer")
	v, _ := Find("iostat")
	d, err := v.Document(m, Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Text(&b, d); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if want := "Linux 6.18.44-fc-v595 (vm) \t2026-11-27 \t_x86_64_\t(2 CPU)"; lines[0] != want || lines[1] != "" {
		t.Errorf("banner %q, want %q then a blank line", lines[0], want)
	}
	var heads []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Device ") {
			heads = append(heads, l)
		}
	}
	if len(heads) < 2 {
		t.Fatalf("%d blocks", len(heads))
	}
	for _, h := range heads[1:] {
		if h != heads[0] {
			t.Errorf("column widths changed between blocks:\n%s\n%s", heads[0], h)
		}
	}
	if v, _ := Find("iotop"); v.Sysstat {
		t.Error("iotop is not a sysstat tool")
	}
}

// Replay JSON names its schema and keys every row in snake_case.
func TestJSONSchemaFieldAndSnakeKeys(t *testing.T) {
	for name, want := range map[string]string{"rkB/s": "rkb_per_s", "%util": "util_pct", "aqu-sz": "aqu_sz", "kB_ccwr/s": "kb_ccwr_per_s",
		"MAJ:MIN": "maj_min", "Device": "device", "TIME%": "time_pct", "<64 B": "lt_64_b", ">=64 KiB": "ge_64_kib", "wr kB/s": "wr_kb_per_s"} {
		if got := SnakeKey(name); got != want {
			t.Errorf("SnakeKey(%q) = %q, want %q", name, got, want)
		}
	}
	m := load(t, "bulk-writer")
	v, _ := Find("iostat")
	d, _ := v.Document(m, Options{Tick: 3})
	var b bytes.Buffer
	if err := JSON(&b, d); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string
		Blocks []struct {
			Rows []map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || doc.Blocks[0].Rows[0]["util_pct"] == nil || doc.Blocks[0].Rows[0]["rkb_per_s"] == nil {
		t.Errorf("schema %q, row %v", doc.Schema, doc.Blocks[0].Rows[0])
	}
}
