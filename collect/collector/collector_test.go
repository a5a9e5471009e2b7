package collector

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/samples/workload"
)

// testConfig is a short collection into a temporary directory.
func testConfig(t *testing.T) Config {
	return Config{
		Output:         filepath.Join(t.TempDir(), "b.tar.zst"),
		Duration:       4 * time.Second,
		Interval:       time.Second,
		Top:            3,
		SelectAfter:    time.Second,
		Strace:         true,
		StraceDuration: 1500 * time.Millisecond,
		StraceMaxBytes: 4 << 20,
		MaxBundleBytes: 32 << 20,
		Redact:         true,
		Version:        "test",
	}
}

func readBundle(t *testing.T, path string) *bundle.Bundle {
	t.Helper()
	b, err := bundle.ReadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("reading the bundle: %v", err)
	}
	return b
}

// frames returns the frames of a member, by path.
func frames(t *testing.T, b *bundle.Bundle, member string) map[string]bundle.Frame {
	t.Helper()
	data, ok := b.Member(member)
	if !ok {
		t.Fatalf("no member %s", member)
	}
	fs, err := bundle.ParseFrames(data)
	if err != nil {
		t.Fatalf("%s: %v", member, err)
	}
	out := map[string]bundle.Frame{}
	for _, f := range fs {
		out[f.Path] = f
	}
	return out
}

func findTarget(m *bundle.Manifest, pid int) *bundle.Target {
	for i := range m.Targets {
		if m.Targets[i].PID == pid {
			return &m.Targets[i]
		}
	}
	return nil
}

// TestLiveOverlaySyncWriter is acceptance 1 of issue 2: a real writer
// appends 60-byte O_SYNC lines to a file in a real overlayfs on a real
// loop-device ext4; the bundle must show it as a target, with its strace,
// fd flags, overlay mount, and its counters in every tick.
func TestLiveOverlaySyncWriter(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	logFile, upper := workload.OverlayAccessLog(t, 64)
	w := workload.StartWriter(t, "--file", logFile, "--size", "60", "--sync", "osync", "--rate", "400")
	pid := w.Process.Pid

	cfg := testConfig(t)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := readBundle(t, res.Path)
	m := b.Manifest
	tg := findTarget(m, pid)
	if tg == nil {
		t.Fatalf("writer %d is not a target; targets: %+v", pid, m.Targets)
	}
	if !strings.Contains(strings.Join(tg.Reasons, ";"), "top") {
		t.Errorf("reasons %q", tg.Reasons)
	}

	// strace: write() lines on that file, with the path from -y.
	if tg.Strace == nil || tg.Strace.Member == "" {
		t.Fatalf("no strace for the writer: %+v", tg.Strace)
	}
	st, _ := b.Member(tg.Strace.Member)
	wantLine := "write(" // followed by fd<path>
	lines := 0
	for _, l := range strings.Split(string(st), "\n") {
		if strings.Contains(l, wantLine) && strings.Contains(l, "<"+logFile+">") && strings.Contains(l, ", 60) = 60") {
			lines++
		}
	}
	if lines < 10 {
		t.Errorf("%d write() lines on %s in the trace; head:\n%.600s", lines, logFile, st)
	}
	if tg.Strace.TracedSeconds <= 0 || tg.Strace.TracedSeconds > 3 || !tg.Strace.Resumed {
		t.Errorf("strace info %+v", tg.Strace)
	}

	// fdinfo: the fd open on the log file has O_SYNC (04010000).
	pf := frames(t, b, tg.Member)
	syncFD := false
	for path, f := range pf {
		if !strings.Contains(path, "/fd/") || string(f.Data) != logFile {
			continue
		}
		info := pf[strings.Replace(path, "/fd/", "/fdinfo/", 1)]
		for _, l := range strings.Split(string(info.Data), "\n") {
			if v, ok := strings.CutPrefix(l, "flags:"); ok {
				flags, _ := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
				syncFD = flags&04010000 == 04010000
			}
		}
	}
	if !syncFD {
		t.Errorf("no fd on %s with O_SYNC in fdinfo", logFile)
	}

	// The target's mountinfo shows the overlay with its upperdir.
	mounts, _ := procfs.ParseMountinfo(pf[fmt.Sprintf("/proc/%d/mountinfo", pid)].Data)
	found := false
	for _, mt := range mounts {
		if o, isOverlay := mt.Overlay(); isOverlay && o.Upper == upper && strings.HasPrefix(logFile, mt.MountPoint+"/") {
			found = true
		}
	}
	if !found {
		t.Errorf("no overlay with upperdir %s holding %s in the target's mountinfo", upper, logFile)
	}

	// Every tick has diskstats and the writer's io counters.
	if m.Ticks != 5 {
		t.Errorf("%d ticks, want 5", m.Ticks)
	}
	var lastMono int64
	for k := 0; k < m.Ticks; k++ {
		tf := frames(t, b, bundle.TickMember(k))
		if f := tf["/proc/diskstats"]; f.Status != bundle.StatusOK || !bytes.Contains(f.Data, []byte(" loop")) {
			t.Errorf("tick %d: diskstats %s", k, f.Status)
		}
		f := tf[fmt.Sprintf("/proc/%d/io", pid)]
		if _, err := procfs.ParsePIDIO(f.Data); f.Status != bundle.StatusOK || err != nil {
			t.Errorf("tick %d: writer io %s %v", k, f.Status, err)
		}
		// Timestamps are read at sampling: increasing, about an interval apart.
		if k > 0 && (f.MonoNS <= lastMono || f.MonoNS-lastMono > int64(2*time.Second)) {
			t.Errorf("tick %d: mono %d after %d", k, f.MonoNS, lastMono)
		}
		lastMono = f.MonoNS
	}

	// Sources all carry a status and the collector its priority.
	for _, s := range m.Sources {
		if !s.Status.Valid() {
			t.Errorf("source %s has status %q", s.Name, s.Status)
		}
	}
	if m.Collector.Nice != 19 || m.Collector.IOPriority != "be/7" {
		t.Errorf("collector priority %d %q", m.Collector.Nice, m.Collector.IOPriority)
	}
	if m.Cost.TickCPUMS <= 0 || m.Cost.MaxRSSKiB <= 0 || m.Cost.ProcessesPerTick < 2 {
		t.Errorf("cost %+v", m.Cost)
	}
}
