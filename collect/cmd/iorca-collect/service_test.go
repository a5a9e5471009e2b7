package main

import (
	"bufio"
	"bytes"
	"context"
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

// A pause keeps the ready file fresh, saying what it waits for, and a
// signal (the context's end) ends it at once.
func TestPauseKeepsTheReadyFileFresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ready")
	ready := newReadyFile(path, &bytes.Buffer{})
	if !pause(context.Background(), 250*time.Millisecond, 50*time.Millisecond, ready) {
		t.Fatal("an uninterrupted pause said it was ended by a signal")
	}
	line, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(line), "pausing, re-arming at") {
		t.Fatalf("ready file %q, %v; want the pause's state", line, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("%d files beside the ready file; the rename's temporary was left", len(ents)-1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	began := time.Now()
	if pause(ctx, time.Hour, time.Second, ready) || time.Since(began) > time.Second {
		t.Errorf("a cancelled pause went on for %v", time.Since(began))
	}
	ready.remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the ready file is still there after remove: %v", err)
	}
}

// --rearm makes sense only for a recorder or a trigger writing into a
// directory; --hold and --ready-file go with any run.
func TestServiceFlags(t *testing.T) {
	for _, bad := range [][]string{
		{"--rearm", "5m", "-o", t.TempDir() + "/"},                       // nothing to re-arm
		{"--rearm", "5m", "--record", "60s", "-o", "x.tar.zst"},          // one file, many bundles
		{"--rearm", "-1s", "--record", "60s", "-o", t.TempDir() + "/"},   // negative
		{"--hold", "-1s", "-o", filepath.Join(t.TempDir(), "b.tar.zst")}, // negative
	} {
		if _, err := parseFlags(bad, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
	f, err := parseFlags([]string{"--rearm", "5m", "--record", "60s", "--trigger", "util>80", "-o", t.TempDir() + "/", "--ready-file", "/dev/shm/r", "--hold", "1h"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil || f.rearm != 5*time.Minute || f.hold != time.Hour || f.readyFile != "/dev/shm/r" {
		t.Errorf("parseFlags: %+v, %v", f, err)
	}
}

// logLines collects a running collector's stderr, line by line, and
// tells when a line containing a text has come.
type logLines struct {
	lines chan string
	all   bytes.Buffer
}

func followStderr(t *testing.T, cmd *exec.Cmd) *logLines {
	t.Helper()
	r, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	l := &logLines{lines: make(chan string, 1000)}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			l.lines <- s.Text()
		}
		close(l.lines)
	}()
	return l
}

// waitFor reads lines until one contains text, or fails after d.
func (l *logLines) waitFor(t *testing.T, text string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				t.Fatalf("the collector ended before saying %q:\n%s", text, l.all.String())
			}
			l.all.WriteString(line + "\n")
			if strings.Contains(line, text) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q in %v:\n%s", text, d, l.all.String())
		}
	}
}

// rest reads what is left until the collector closes its stderr.
func (l *logLines) rest() string {
	for line := range l.lines {
		l.all.WriteString(line + "\n")
	}
	return l.all.String()
}

// Issue 26: the collector as a DaemonSet's main process. With --rearm
// it writes a bundle when the trigger fires, says so in its log (the
// trigger as it fires, then the bundle), pauses with its ready file kept
// fresh, arms again; SIGTERM while it records writes the window at once
// and ends the loop with the collection's status; the ready file goes
// with it.
func TestRearmedRecorderStopsOnSIGTERM(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	dir := t.TempDir()
	ready := filepath.Join(t.TempDir(), "ready")
	// Any device's writes are at least zero: the trigger fires after four
	// intervals (2 s) of recording, the capture lasts 1 s.
	cmd := exec.Command(bin, "--record", "3s", "-i", "500ms", "--trigger", "w/s>=0", "--trigger-for", "4", "-d", "1s",
		"--rearm", "2s", "--ready-file", ready, "-o", dir+"/", "--no-strace", "--no-block-trace")
	log := followStderr(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	log.waitFor(t, "armed at", 5*time.Second)
	log.waitFor(t, `trigger "w/s>=0" fired at`, 10*time.Second)
	log.waitFor(t, "wrote "+dir, 15*time.Second)
	log.waitFor(t, "re-arming in 2s", 5*time.Second)
	time.Sleep(200 * time.Millisecond) // the pause's first write
	checkFresh(t, ready, "pausing")
	log.waitFor(t, "armed at", 5*time.Second)
	time.Sleep(time.Second) // recording, before the trigger can fire again
	checkFresh(t, ready, "recording")
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := waitExit(t, cmd, 20*time.Second, "the recorder did not exit after SIGTERM")
	took := time.Since(sent)
	out := log.rest()
	if code := exitCode(err); code != exitComplete && code != exitIncomplete {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, out)
	}
	t.Logf("SIGTERM to exit, the window written: %v", took)
	if took > 10*time.Second {
		t.Errorf("the window took %v to write after SIGTERM", took)
	}
	bundles, _ := filepath.Glob(filepath.Join(dir, "iorca-*.tar.zst"))
	if len(bundles) != 2 {
		t.Fatalf("%d bundles, want the trigger's and SIGTERM's:\n%s", len(bundles), out)
	}
	hows := map[string]bool{}
	for _, b := range bundles {
		cs := readManifest(t, b).Capture
		hows[cs.How+" "+cs.Signal] = true
	}
	if !hows[bundle.StartTrigger+" "] || !hows[bundle.StartSignal+" SIGTERM"] {
		t.Errorf("bundles started by %v, want one by the trigger and one by SIGTERM", hows)
	}
	if !strings.Contains(out, "SIGTERM: stopping; writing the recorder's window") || strings.Count(out, "wrote "+dir) != 2 {
		t.Errorf("the log does not tell the SIGTERM and both bundles:\n%s", out)
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Errorf("the ready file outlives the collector: %v", err)
	}
}

// checkFresh checks that the ready file was written within two
// intervals and says what the collector is doing.
func checkFresh(t *testing.T, path, state string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("ready file: %v", err)
	}
	if age := time.Since(st.ModTime()); age > time.Second {
		t.Errorf("the ready file is %v old", age)
	}
	if line, _ := os.ReadFile(path); !strings.Contains(string(line), state) {
		t.Errorf("ready file %q, want %q", line, state)
	}
}

// --hold keeps a finished Job's pod up for a copy, and SIGTERM ends the
// hold at once with the collection's status.
func TestHoldEndsOnSIGTERM(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "-d", "1s", "-i", "500ms", "--hold", "1h", "-o", dir+"/", "--no-strace", "--no-block-trace")
	log := followStderr(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	log.waitFor(t, "wrote "+dir, 15*time.Second)
	log.waitFor(t, "holding for 1h0m0s", 5*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	err := waitExit(t, cmd, 5*time.Second, "the hold did not end on SIGTERM")
	out := log.rest()
	if code := exitCode(err); code != exitComplete && code != exitIncomplete {
		t.Errorf("exit %d, want the collection's status:\n%s", code, out)
	}
	if bundles, _ := filepath.Glob(filepath.Join(dir, "iorca-*.tar.zst")); len(bundles) != 1 {
		t.Errorf("%d bundles, want 1", len(bundles))
	}
}
