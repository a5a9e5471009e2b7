package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/table"
)

// The views are tested on the committed samples: bundles the collector
// captured from incidents reproduced on a real machine (samples/*.sh).
var samples = []string{"nginx-logger-stdout", "overlay-sync-logger", "fsync-storm", "bulk-writer", "throttled-cgroup", "idle"}

func load(t *testing.T, name string) *model.Model {
	t.Helper()
	return sampletest.Model(t, name)
}

func run(t *testing.T, m *model.Model, view string, o Options) []Block {
	t.Helper()
	v, ok := Find(view)
	if !ok {
		t.Fatalf("no view %s", view)
	}
	bs, err := v.Run(m, o)
	if err != nil {
		t.Fatalf("%s: %v", view, err)
	}
	return bs
}

// column returns the cell of row r under the column named name.
func column(t *testing.T, tb *table.Table, r int, name string) table.Cell {
	t.Helper()
	for i, c := range tb.Columns {
		if c.Name == name {
			return tb.Rows[r][i]
		}
	}
	t.Fatalf("no column %q in %+v", name, tb.Columns)
	return table.Cell{}
}

// Every view renders on every sample, as text and as JSON that parses.
func TestEveryViewOnEverySample(t *testing.T) {
	for _, s := range samples {
		m := load(t, s)
		for _, v := range Views {
			o := Options{Tick: -1}
			if v.Name == "pidio" || v.Name == "strace" {
				if len(m.Targets) == 0 {
					// Said as an error, not an empty view.
					if _, err := v.Run(m, o); err == nil {
						t.Errorf("%s %s: no error without targets", s, v.Name)
					}
					continue
				}
				o.PID = m.Targets[0].Info.PID
			}
			if (v.Name == "biotop" || v.Name == "biolatency") && m.BlockTrace == nil {
				if _, err := v.Run(m, o); err == nil || !strings.Contains(err.Error(), "no block trace") {
					t.Errorf("%s %s without a block trace: %v", s, v.Name, err)
				}
				continue
			}
			d, err := v.Document(m, o)
			if err != nil {
				t.Fatalf("%s %s: %v", s, v.Name, err)
			}
			bs := d.Blocks
			var txt, js bytes.Buffer
			if err := Text(&txt, d); err != nil {
				t.Errorf("%s %s text: %v", s, v.Name, err)
			}
			if err := JSON(&js, d); err != nil || !json.Valid(js.Bytes()) {
				t.Errorf("%s %s json: %v", s, v.Name, err)
			}
			for _, b := range bs {
				if err := snakeAndUnique(Keys(b.Table)); err != nil {
					t.Errorf("%s %s: %v", s, v.Name, err)
				}
			}
			if v.Interval && len(bs) != len(m.Ticks)-1 {
				t.Errorf("%s %s: %d blocks for %d ticks", s, v.Name, len(bs), len(m.Ticks))
			}
		}
	}
}

// iostat --summary is the model's iostat arithmetic over the whole capture,
// row for row.
func TestIostatSummaryIsTheModels(t *testing.T) {
	m := load(t, "overlay-sync-logger")
	bs := run(t, m, "iostat", Options{Tick: -1, Summary: true})
	if len(bs) != 1 {
		t.Fatalf("%d blocks", len(bs))
	}
	want := m.DeviceIostat(0, len(m.Ticks)-1)
	tb := bs[0].Table
	if len(tb.Rows) == 0 {
		t.Fatal("no device in the summary")
	}
	for r := range tb.Rows {
		dev := column(t, tb, r, "Device").Text
		x, ok := want[dev]
		if !ok {
			t.Errorf("device %s not in the model", dev)
			continue
		}
		if got := column(t, tb, r, "w/s").Num; got != x.WPS {
			t.Errorf("%s w/s %v, model %v", dev, got, x.WPS)
		}
		if got := column(t, tb, r, "%util").Num; got != x.Util {
			t.Errorf("%s %%util %v, model %v", dev, got, x.Util)
		}
	}
}

// findmnt -T in the target's namespace resolves the access log onto the
// container's overlay and names the upper layer.
func TestFindmntTargetOverlay(t *testing.T) {
	m := load(t, "overlay-sync-logger")
	var pid int
	for _, tg := range m.Targets {
		for _, fd := range tg.FDs {
			if strings.HasSuffix(fd.Path, "/access.log") {
				pid = tg.Info.PID
			}
		}
	}
	if pid == 0 {
		t.Fatal("no target has the access log open")
	}
	bs := run(t, m, "findmnt", Options{Tick: -1, PID: pid, Target: "/var/log/nginx/access.log"})
	head := strings.Join(bs[0].Header, "\n")
	if column(t, bs[0].Table, 0, "FSTYPE").Text != "overlay" || !strings.Contains(head, "upper") || !strings.Contains(head, "land in") {
		t.Errorf("findmnt: %+v\n%s", bs[0].Table.Rows, head)
	}
	if _, err := Views[0].Run(m, Options{Tick: len(m.Ticks)}); err == nil {
		t.Error("a tick past the end was accepted")
	}
}

// iotop over the capture accumulates what the model's window says.
func TestIotopSummaryMatchesWindow(t *testing.T) {
	m := load(t, "bulk-writer")
	bs := run(t, m, "iotop", Options{Tick: -1, Summary: true})
	tb := bs[0].Table
	if len(tb.Rows) == 0 {
		t.Fatal("iotop shows no process")
	}
	byPID := map[int]model.ProcIO{}
	for _, p := range m.ProcessIO(0, len(m.Ticks)-1) {
		byPID[p.Proc.PID] = p
	}
	pid := int(column(t, tb, 0, "PID").Num)
	if p, ok := byPID[pid]; !ok || p.Delta.IO.WriteBytes == 0 {
		t.Errorf("iotop's first row, PID %d, wrote nothing in the model's window", pid)
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// snakeAndUnique checks a table's JSON keys: snake_case, no two alike.
func snakeAndUnique(keys []string) error {
	seen := map[string]bool{}
	for _, k := range keys {
		if !snakeCase.MatchString(k) || seen[k] {
			return fmt.Errorf("JSON key %q not snake_case or repeated in %q", k, keys)
		}
		seen[k] = true
	}
	return nil
}
