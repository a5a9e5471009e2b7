package model

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// The loader knows an unchanged /proc/PID/stat or io from its text alone,
// without parsing it: every tick's sample must still be what parsing it
// would give — through a changed io under an unchanged stat, an io missing
// from one tick, and a changed stat under an unchanged io. The bundle is
// hand-made from this process's own stat (an adversarial case: no
// collector wrote it).
func TestLoaderRunsOfUnchangedSamples(t *testing.T) {
	statR, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc/self/stat: %v", err)
	}
	if !bytes.Contains(statR, []byte(") R ")) {
		t.Skipf("/proc/self/stat is not in state R: %q", statR)
	}
	statD := bytes.Replace(statR, []byte(") R "), []byte(") D "), 1)
	ioText := func(write int) []byte {
		return fmt.Appendf(nil, "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 0\nwrite_bytes: %d\ncancelled_write_bytes: 0\n", write)
	}
	ticks := []struct {
		stat []byte
		io   []byte // nil: no io frame in this tick
		// the sample parsing this tick gives
		state    byte
		hasIO    bool
		wbytes   int64
		newPoint bool
	}{
		{statR, ioText(4096), 'R', true, 4096, true},
		{statR, ioText(4096), 'R', true, 4096, false},
		{statR, ioText(8192), 'R', true, 8192, true},
		{statR, nil, 'R', false, 0, true},
		{statR, ioText(8192), 'R', true, 8192, true},
		{statD, ioText(8192), 'D', true, 8192, true},
		{statD, ioText(8192), 'D', true, 8192, false},
	}
	start := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	var files []bundle.File
	for k, tk := range ticks {
		c := bundle.Clock{Wall: start.Add(time.Duration(k) * time.Second), MonoNS: int64(k+1) * 1e9}
		b := bundle.AppendFrame(nil, bundle.Frame{Path: bundle.ClockFrame, Status: bundle.StatusOK, MonoNS: c.MonoNS, Data: bundle.ClockData(c, k)})
		b = bundle.AppendFrame(b, bundle.Frame{Path: "/proc/4242/stat", Status: bundle.StatusOK, MonoNS: c.MonoNS + 1000, Data: tk.stat})
		if tk.io != nil {
			b = bundle.AppendFrame(b, bundle.Frame{Path: "/proc/4242/io", Status: bundle.StatusOK, MonoNS: c.MonoNS + 2000, Data: tk.io})
		}
		files = append(files, bundle.BytesFile(bundle.TickMember(k), b))
	}
	man := &bundle.Manifest{Host: bundle.Host{Hostname: "adversarial"}, Start: bundle.Clock{Wall: start}, End: bundle.Clock{Wall: start.Add(time.Duration(len(ticks)) * time.Second)}}
	var raw bytes.Buffer
	if err := bundle.Write(&raw, man, files); err != nil {
		t.Fatal(err)
	}
	rd, err := bundle.NewReader(bytes.NewReader(raw.Bytes()), bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	m, err := LoadReader(rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Procs) != 1 {
		t.Fatalf("%d processes, want 1", len(m.Procs))
	}
	p := m.Procs[0]
	var wantPoints []string
	for k, tk := range ticks {
		pt, ok := m.PointAt(p, k)
		if !ok {
			t.Fatalf("tick %d: no sample", k)
		}
		if pt.State != tk.state || pt.HasIO != tk.hasIO || pt.IO.WriteBytes != tk.wbytes {
			t.Errorf("tick %d: state %c, io %v, write_bytes %d; want %c, %v, %d", k, pt.State, pt.HasIO, pt.IO.WriteBytes, tk.state, tk.hasIO, tk.wbytes)
		}
		if tk.newPoint {
			wantPoints = append(wantPoints, fmt.Sprint(k))
		}
	}
	var got []string
	for _, pt := range p.Points {
		got = append(got, fmt.Sprint(pt.Tick))
	}
	if strings.Join(got, " ") != strings.Join(wantPoints, " ") {
		t.Errorf("points at ticks %v, want one per run of identical samples: %v", got, wantPoints)
	}
}
