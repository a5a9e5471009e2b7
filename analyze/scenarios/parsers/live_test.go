package parsers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/samples/workload"
)

// TestParsersOnLiveCapture runs every parser on files captured live on
// this machine by the collector: every kernel file of every tick, the
// process table, a target's fds and fdinfo, mountinfo, cgroup files, the
// kernel log, and a real strace. Nothing may fail to parse.
func TestParsersOnLiveCapture(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	file := filepath.Join(t.TempDir(), "wal.log")
	w := workload.StartWriter(t, "--file", file, "--size", "120", "--sync", "fdatasync", "--rate", "200")
	cfg := livetest.Config(t, 3*time.Second)
	cfg.PIDs = []int{w.Process.Pid}
	m := livetest.Load(t, livetest.Capture(t, cfg, 0))

	for _, n := range m.Notes {
		t.Errorf("could not parse %s %s: %s", n.Member, n.Path, n.What)
	}
	_, psi := os.Stat("/proc/pressure/io")
	for _, tk := range m.Ticks {
		if !tk.HasUptime || len(tk.Disks) == 0 || len(tk.SysBlock) == 0 || tk.Vmstat["pgpgout"] == 0 || tk.Meminfo["MemTotal"] == 0 || tk.Stat == nil || tk.Loadavg == nil {
			t.Errorf("tick %d incomplete: %+v", tk.N, tk)
		}
		if psi == nil && tk.PSI == nil {
			t.Errorf("tick %d: no PSI although /proc/pressure/io exists", tk.N)
		}
	}
	if len(m.Mounts) == 0 || len(m.Statfs) == 0 || len(m.Kmsg) == 0 || len(m.Sysctl) == 0 || len(m.Blocks) == 0 {
		t.Errorf("static data missing: %d mounts, %d statfs, %d kmsg, %d sysctl, %d blocks", len(m.Mounts), len(m.Statfs), len(m.Kmsg), len(m.Sysctl), len(m.Blocks))
	}
	withIO, described := 0, 0
	for _, p := range m.Procs {
		if p.Points[len(p.Points)-1].HasIO {
			withIO++
		}
		if p.Cgroups != nil {
			described++
		}
	}
	if withIO < len(m.Procs)/2 || described < len(m.Procs)/2 {
		t.Errorf("%d processes: %d with io, %d described by the table", len(m.Procs), withIO, described)
	}
	if len(m.Targets) == 0 {
		t.Fatal("no targets")
	}
	var tg = m.Targets[0]
	for _, x := range m.Targets {
		if x.Info.PID == w.Process.Pid {
			tg = x
		}
	}
	if tg.Info.PID != w.Process.Pid || tg.Process == nil || len(tg.Mounts) == 0 || tg.Status == nil {
		t.Fatalf("target not loaded: %+v", tg.Info)
	}
	found := false
	for _, fd := range tg.FDs {
		if fd.Path == file {
			found = fd.Info != nil && fd.Info.Flags.Writable() && fd.Info.Flags.Append()
		}
	}
	if !found {
		t.Errorf("the writer's fd on %s with O_APPEND was not parsed: %+v", file, tg.FDs)
	}
	// The loader summarises the calls and lets them go: the summary holds
	// what the trace said.
	s := tg.Summary()
	if tg.Trace == nil || len(tg.Trace.Malformed) != 0 || s == nil || len(s.Syscalls) == 0 {
		t.Fatalf("trace: %+v, summary %+v", tg.Trace, s)
	}
	if len(s.Files) == 0 || s.Files[0].Path != file || s.Files[0].SyncAfterWrite == 0 || s.Files[0].AvgWrite() != 120 {
		t.Errorf("trace summary: %+v", s.Files[0])
	}
}

// TestBlockStackFactsOnThisMachine captures this machine's /sys/block with
// a loop device of the test's own attached, and checks that the model
// holds each device's slaves and holders as the directories list them,
// and the loop device's backing file. This kernel has neither
// device-mapper nor md (no CONFIG, no module): the dm/name, md/level and
// non-empty slaves/holders cases are tested on hand-made models
// (stack_test.go), not live.
func TestBlockStackFactsOnThisMachine(t *testing.T) {
	workload.Live(t)
	loop := workload.LoopDevice(t, 16)
	cfg := livetest.Config(t, 2*time.Second)
	cfg.BlockTrace, cfg.Strace = false, false
	m := livetest.Load(t, livetest.Capture(t, cfg, 0))
	name := filepath.Base(loop)
	b := m.Blocks[name]
	if b == nil || b.BackingFile == "" || len(b.Slaves) != 0 || len(b.Holders) != 0 || b.DMName != "" || b.MDLevel != "" {
		t.Fatalf("%s: %+v, want a backing file and no stack", name, b)
	}
	devs, err := os.ReadDir("/sys/block")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		b := m.Blocks[d.Name()]
		if b == nil {
			continue // attached or detached since, by someone else
		}
		for sub, got := range map[string][]string{"slaves": b.Slaves, "holders": b.Holders} {
			ents, _ := os.ReadDir(filepath.Join("/sys/block", d.Name(), sub))
			var want []string
			for _, e := range ents {
				want = append(want, e.Name())
			}
			if strings.Join(want, " ") != strings.Join(got, " ") {
				t.Errorf("%s %s: model %q, /sys/block %q", d.Name(), sub, got, want)
			}
		}
		dm, _ := os.ReadFile(filepath.Join("/sys/block", d.Name(), "dm/name"))
		if strings.TrimSpace(string(dm)) != b.DMName {
			t.Errorf("%s dm/name: model %q, /sys/block %q", d.Name(), b.DMName, dm)
		}
	}
}
