package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 13: a flight recorder told to write by SIGUSR1 writes the last
// --record of its samples, ticks numbered from 0, says so in the
// manifest, and exits 0 (or 3 when some reads were denied, as on any
// run); a second bundle in the same directory pushes the oldest out with
// --keep 1.
func TestRecorderDumpsOnSIGUSR1(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	dir := t.TempDir()
	var paths []string
	for round := range 2 {
		cmd := exec.Command(bin, "--record", "3s", "-i", "500ms", "-o", dir+"/", "--keep", "1", "--no-strace", "--no-block-trace")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(6 * time.Second)
		cmd.Process.Signal(syscall.SIGUSR1)
		err := waitExit(t, cmd, 20*time.Second, "the recorder did not write and exit after SIGUSR1")
		if code := exitCode(err); code != exitComplete && code != exitIncomplete {
			t.Fatalf("round %d: exit %d; stderr:\n%s", round, code, stderr.String())
		}
		ents, _ := filepath.Glob(filepath.Join(dir, "iorca-*.tar.zst"))
		if len(ents) != 1 {
			t.Fatalf("round %d: %d bundles in the directory, want 1 (--keep 1): %v", round, len(ents), ents)
		}
		paths = append(paths, ents[0])
		m := readManifest(t, ents[0])
		cs := m.Capture
		if cs == nil || cs.How != bundle.StartSignal || cs.Signal != "SIGUSR1" || cs.Record == nil {
			t.Fatalf("round %d: capture %+v, want a recorder written on SIGUSR1", round, cs)
		}
		// 3 s at 500 ms: 7 ticks when the clock is exact, 6 when a tick
		// runs late; 12 were sampled.
		if m.Ticks < 6 || m.Ticks > 7 || cs.Record.Ticks != m.Ticks || cs.Record.Dropped < 4 || m.Partial {
			t.Errorf("round %d: %d ticks (%d from the window, %d dropped), partial %v; want the last 3 s", round, m.Ticks, cs.Record.Ticks, cs.Record.Dropped, m.Partial)
		}
		if span := m.End.Wall.Sub(m.Start.Wall); span > 5*time.Second {
			t.Errorf("round %d: the bundle spans %v, more than its window", round, span)
		}
		b, err := bundle.ReadFile(ents[0], bundle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		for k := range m.Ticks {
			data, ok := b.Member(bundle.TickMember(k))
			if !ok {
				t.Fatalf("round %d: no member %s", round, bundle.TickMember(k))
			}
			f, _ := bundle.ParseFrames(data)
			if _, n := bundle.ParseClock(f[0].Data); len(f) == 0 || f[0].Path != bundle.ClockFrame || n != k {
				t.Errorf("round %d: tick member %d holds clock tick %d", round, k, n)
			}
		}
		if !strings.Contains(stderr.String(), "written on SIGUSR1") {
			t.Errorf("round %d: the summary does not say how it was written:\n%s", round, stderr.String())
		}
		time.Sleep(1100 * time.Millisecond) // a new second: a new name
	}
	if _, err := os.Stat(paths[0]); paths[0] != paths[1] && err == nil {
		t.Errorf("the first bundle %s is still there with --keep 1", paths[0])
	}
}

// Issue 13: a trigger that never fires within --wait gives exit 4, says
// how close it came, and leaves no bundle.
func TestTriggerWaitExpires(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	out := filepath.Join(t.TempDir(), "never.tar.zst")
	start := time.Now()
	// No device of this machine does 10 million writes a second.
	cmd := exec.Command(bin, "--trigger", "w/s>1e7", "--wait", "3s", "-o", out, "-q")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if code := exitCode(err); code != exitNotFired {
		t.Fatalf("exit %d, want 4; stderr:\n%s", code, stderr.String())
	}
	if took := time.Since(start); took < 3*time.Second || took > 10*time.Second {
		t.Errorf("it gave up after %v, want about --wait 3s", took)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a bundle was written although the trigger never fired")
	}
	if msg := stderr.String(); !strings.Contains(msg, "--wait 3s expired") || !strings.Contains(msg, "w/s") || !strings.Contains(msg, "no bundle written") {
		t.Errorf("the message does not say what expired and how close it came: %q", msg)
	}
	// SIGINT while waiting: the same outcome, sooner.
	cmd = exec.Command(bin, "--trigger", "w/s>1e7", "-o", out, "-q")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(cmd.Wait()); code != exitNotFired || !strings.Contains(stderr.String(), "SIGINT") {
		t.Errorf("SIGINT while waiting: exit %d, stderr %q; want 4 naming the signal", code, stderr.String())
	}
}

// unitArgs is the systemd unit's ExecStart, split into words.
func unitArgs(t *testing.T) ([]byte, []string) {
	t.Helper()
	unit, err := os.ReadFile("../../../deploy/systemd/iorca-recorder.service")
	if err != nil {
		t.Fatal(err)
	}
	start := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(unit), "\\\n", " "), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			start = v
		}
	}
	args := strings.Fields(start)
	if len(args) < 2 || args[0] != "/usr/local/bin/iorca-collect" {
		t.Fatalf("ExecStart %q", start)
	}
	return unit, args
}

// The systemd unit in deploy/systemd runs the recorder with flags this
// collector accepts, not quiet (the journal must say when the trigger
// fired and which bundle was written), and systemd itself finds nothing
// wrong in it (systemd-analyze verify, with the unit's binary path
// pointed at a build of this collector).
func TestSystemdUnit(t *testing.T) {
	unit, args := unitArgs(t)
	f, err := parseFlags(args[1:], &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("the unit's flags: %v", err)
	}
	if f.cfg.Record == 0 || f.cfg.Trigger == nil || f.cfg.OutputDir == "" || f.cfg.Keep == 0 || f.cfg.KeepBytes == 0 || f.rearm == 0 {
		t.Errorf("the unit does not run a re-armed recorder with a trigger into a pruned directory: %+v", f.cfg)
	}
	if f.quiet {
		t.Errorf("the unit runs the collector --quiet: the journal would not say when the trigger fired nor which bundle was written")
	}
	if testing.Short() {
		return
	}
	verify, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's flags were checked, not the unit")
	}
	bin := buildCollector(t)
	path := filepath.Join(t.TempDir(), "iorca-recorder.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/iorca-collect"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(verify, "verify", path).CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// Issue 26: the unit's collector, its stderr a pipe as the journal's
// is, logs its lifecycle: armed, the trigger fired, the bundle written,
// re-arming (the progress line alone is for terminals). The unit's flags,
// with a window, trigger and capture short enough for a test after them.
func TestSystemdUnitLogsWithoutATerminal(t *testing.T) {
	workload.Live(t)
	_, args := unitArgs(t)
	bin := buildCollector(t)
	dir := t.TempDir()
	run := append(args[1:], "--record", "3s", "-i", "500ms", "--trigger", "w/s>=0", "--trigger-for", "2", "-d", "1s",
		"-o", dir+"/", "--no-strace", "--no-block-trace")
	cmd := exec.Command(bin, run...)
	log := followStderr(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	log.waitFor(t, "armed at", 5*time.Second)
	log.waitFor(t, `trigger "w/s>=0" fired at`, 10*time.Second)
	log.waitFor(t, "wrote "+dir, 15*time.Second)
	log.waitFor(t, "re-arming in 5m0s", 5*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, cmd, 20*time.Second, "the recorder did not exit after SIGTERM")
	if out := log.rest(); strings.Contains(out, "\r") {
		t.Errorf("a progress line reached a pipe:\n%q", out)
	}
}

// Issue 13: a trigger without a recorder waits on the node's counters
// alone and starts the capture when it fires: the manifest says so, with
// the figures of the intervals that fired it, at tick 0.
func TestTriggerStartsCapture(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	out := filepath.Join(t.TempDir(), "fired.tar.zst")
	// Every device does at least zero writes a second: it fires after two
	// intervals.
	cmd := exec.Command(bin, "--trigger", "w/s>=0", "--trigger-for", "2", "-i", "500ms", "-d", "2s", "--no-strace", "--no-block-trace", "-o", out, "-q")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if code := exitCode(cmd.Run()); code != exitComplete && code != exitIncomplete {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	m := readManifest(t, out)
	cs := m.Capture
	if cs == nil || cs.How != bundle.StartTrigger || cs.Trigger == nil || !cs.Trigger.Fired || cs.Record != nil {
		t.Fatalf("capture %+v, want started by the trigger", cs)
	}
	tr := cs.Trigger
	if tr.Expression != "w/s>=0" || tr.For != 2 || len(tr.Intervals) != 2 || tr.Tick != 0 || tr.WaitedSeconds < 0.9 {
		t.Errorf("trigger %+v: want w/s>=0 fired by two intervals, after about 1 s, at tick 0", tr)
	}
	if _, ok := tr.Intervals[1].Figures["w/s"]; !ok || tr.Intervals[1].Device == "" {
		t.Errorf("the firing interval %+v names no device or no w/s", tr.Intervals[1])
	}
	if m.Start.Wall.Before(tr.At.Wall) || m.Ticks < 4 {
		t.Errorf("the capture starts %s, before the trigger fired at %s, or has %d ticks", m.Start.Wall, tr.At.Wall, m.Ticks)
	}
}
