package stracerun

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/samples/workload"
)

// startWriter starts a real writer appending 60-byte O_SYNC lines and stops
// it when the test ends.
func startWriter(t *testing.T, extra ...string) *exec.Cmd {
	t.Helper()
	workload.Live(t)
	bin := workload.Build(t)
	file := filepath.Join(t.TempDir(), "access.log")
	args := append([]string{"--file", file, "--size", "60", "--sync", "osync", "--rate", "2000"}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(100 * time.Millisecond)
	return cmd
}

func straceOrSkip(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed (.ci/run installs it)")
	}
	return p
}

func checkRunning(t *testing.T, pid int) {
	t.Helper()
	st, err := ProcessState(pid)
	if err != nil {
		t.Fatalf("traced process: %v", err)
	}
	if st == 'T' || st == 't' {
		t.Errorf("traced process left in state %c after the trace", st)
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	path := straceOrSkip(t)
	w := startWriter(t, "--password=hunter2")
	res := Run(context.Background(), w.Process.Pid, Config{Path: path, Duration: 700 * time.Millisecond, MaxBytes: 16 << 20, Redact: true})
	out := output(t, res)
	if res.Info.StopReason != "duration" || res.Info.Status != "ok" {
		t.Fatalf("info = %+v", res.Info)
	}
	if res.Info.TracedSeconds < 0.6 || res.Info.TracedSeconds > 3 {
		t.Errorf("traced %.2fs, want about 0.7s", res.Info.TracedSeconds)
	}
	if !bytes.Contains(out, []byte("access.log>, ")) || !bytes.Contains(out, []byte(`""..., 60) = 60`)) {
		t.Errorf("no redacted 60-byte write lines in:\n%.500s", out)
	}
	if bytes.Contains(out, []byte("hunter2")) {
		t.Error("payload reached the trace despite -s 0")
	}
	if !res.Info.Resumed {
		t.Error("no SIGCONT sent")
	}
	checkRunning(t, w.Process.Pid)
}

func TestRunStopsAtMaxBytes(t *testing.T) {
	path := straceOrSkip(t)
	w := startWriter(t)
	const limit = 4000
	dir := t.TempDir()
	res := Run(context.Background(), w.Process.Pid, Config{Path: path, Duration: 20 * time.Second, MaxBytes: limit, Redact: true, SpillDirs: []string{dir}})
	out := output(t, res)
	if res.Info.StopReason != "max-bytes" || !res.Info.Truncated {
		t.Fatalf("info = %+v", res.Info)
	}
	if len(out) > limit || len(out) == 0 || out[len(out)-1] != '\n' {
		t.Errorf("output %d bytes (limit %d), ends %q", len(out), limit, out[max(0, len(out)-10):])
	}
	if int64(len(out)) != res.Info.Bytes || bytes.Count(out, []byte{'\n'}) != res.Info.Lines {
		t.Errorf("info says %d bytes in %d lines; the text has %d in %d", res.Info.Bytes, res.Info.Lines, len(out), bytes.Count(out, []byte{'\n'}))
	}
	// The trace streamed to an unlinked file: nothing is left in the
	// directory, even before the result is closed.
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the spill directory holds %v: the spill file was not unlinked", ents)
	}
	if res.Info.TracedSeconds > 10 {
		t.Errorf("traced %.1fs: the byte bound did not stop it early", res.Info.TracedSeconds)
	}
	checkRunning(t, w.Process.Pid)
}

func TestRunKeepsPrefixWithoutRedaction(t *testing.T) {
	path := straceOrSkip(t)
	w := startWriter(t, "--password=hunter2")
	res := Run(context.Background(), w.Process.Pid, Config{Path: path, Duration: 500 * time.Millisecond, MaxBytes: 1 << 20, Redact: false})
	out := output(t, res)
	if !bytes.Contains(out, []byte("hunter2")) {
		t.Errorf("with redaction off the 32-byte prefix should show the payload:\n%.300s", out)
	}
}

func TestRunStopsOnCancelAndTargetExit(t *testing.T) {
	path := straceOrSkip(t)
	w := startWriter(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(300*time.Millisecond, func() { cancel(ErrCollectionEnd) })
	res := Run(ctx, w.Process.Pid, Config{Path: path, Duration: time.Minute, MaxBytes: 1 << 20, Redact: true})
	out := output(t, res)
	if res.Info.StopReason != "collection-end" {
		t.Errorf("stop reason %q, want collection-end", res.Info.StopReason)
	}
	checkRunning(t, w.Process.Pid)

	short := startWriter(t, "--for", "400ms")
	res = Run(context.Background(), short.Process.Pid, Config{Path: path, Duration: time.Minute, MaxBytes: 1 << 20, Redact: true})
	out = output(t, res)
	if res.Info.StopReason != "target-exited" || !strings.Contains(string(out), "+++ exited with 0 +++") {
		t.Errorf("info = %+v, tail %q", res.Info, out[max(0, len(out)-100):])
	}
}

func TestRunNoSuchProcess(t *testing.T) {
	path := straceOrSkip(t)
	res := Run(context.Background(), 999999999, Config{Path: path, Duration: time.Second, MaxBytes: 1 << 20, Redact: true})
	if res.Info.StopReason != "failed" || res.Info.Status == "ok" {
		t.Errorf("info = %+v", res.Info)
	}
}

// Issue 22, item 4: an operator stopped a runaway writer (SIGSTOP) and
// captures it: the trace must not set it writing again. It is left
// stopped, gets no SIGCONT, and the trace says it was stopped.
func TestStoppedTargetStaysStopped(t *testing.T) {
	path := straceOrSkip(t)
	w := startWriter(t)
	pid := w.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if st, _ := ProcessState(pid); st == 'T' {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := Run(context.Background(), pid, Config{Path: path, Duration: 500 * time.Millisecond, MaxBytes: 1 << 20, Redact: true})
	if res.Info.Resumed || !res.Info.WasStopped {
		t.Errorf("resumed %v, was stopped %v; want a stopped target left alone", res.Info.Resumed, res.Info.WasStopped)
	}
	// Still stopped a moment later: no write reaches its file.
	time.Sleep(200 * time.Millisecond)
	if st, err := ProcessState(pid); err != nil || st != 'T' {
		t.Errorf("target in state %c (%v) after the trace, want T (stopped)", st, err)
	}
	syscall.Kill(pid, syscall.SIGCONT)
}

// output is a trace's text, its spill released when the test ends.
func output(t *testing.T, res Result) []byte {
	t.Cleanup(res.Output.Close)
	return res.Output.Bytes()
}

// A spill directory that fills up mid-trace (a full /dev/shm) ends the
// trace there, marked partial with the reason, and keeps the whole lines
// written before it; the traced process runs on. The directory is a real
// 64 KiB tmpfs.
func TestRunSpillFull(t *testing.T) {
	path := straceOrSkip(t)
	w := startWriter(t)
	dir := workload.Tmpfs(t, "64k")
	res := Run(context.Background(), w.Process.Pid, Config{Path: path, Duration: 20 * time.Second, MaxBytes: 16 << 20, Redact: true, SpillDirs: []string{dir}})
	out := output(t, res)
	if res.Info.StopReason != "spill-failed" || res.Info.Status != "partial" || !strings.Contains(res.Info.Stderr, "no space left") {
		t.Fatalf("info = %+v", res.Info)
	}
	if len(out) == 0 || len(out) > 64<<10 || out[len(out)-1] != '\n' || int64(len(out)) != res.Info.Bytes {
		t.Errorf("kept %d bytes (info: %d), ends %q", len(out), res.Info.Bytes, out[max(0, len(out)-10):])
	}
	if res.Info.TracedSeconds > 10 {
		t.Errorf("traced %.1fs: the full spill did not stop it early", res.Info.TracedSeconds)
	}
	checkRunning(t, w.Process.Pid)
}
