package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/iorca/iorca/samples/workload"
)

// openPTY opens a pseudo-terminal pair: the master, and the path of the
// slave.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		t.Fatalf("ptsname: %v", e)
	}
	return master, fmt.Sprintf("/dev/pts/%d", n)
}

// Issue 22, item 1: the ssh session to a node in an IO incident is the
// one that drops. The collector runs as the session leader of a real
// pseudo-terminal, as under sshd; closing the master hangs the terminal
// up (the kernel sends SIGHUP to the session's controlling process). The
// collector goes on to the end of its run as under nohup, writes a whole
// bundle whose manifest says when the terminal went, and leaves no
// tracing instance behind.
func TestTerminalHangUpKeepsTheCapture(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	master, slavePath := openPTY(t)
	defer master.Close()
	slave, err := os.OpenFile(slavePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "b.tar.zst")
	cmd := exec.Command(bin, "-d", "5s", "-o", out, "--select-after", "1s", "--strace-duration", "2s")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	// Nobody reads the master: a reader blocked in read(2) would keep it
	// open past Close, and the terminal would never hang up. The few
	// hundred bytes of progress fit in the terminal's buffer.
	time.Sleep(2 * time.Second)
	master.Close() // the hang-up
	err = waitExit(t, cmd, 30*time.Second, "the collector did not finish after the hang-up")
	if code := exitCode(err); code != exitComplete && code != exitIncomplete {
		t.Fatalf("exit %d after the hang-up (%v)", code, err)
	}
	m := readManifest(t, out)
	if m.Capture == nil || m.Capture.HungUp == nil {
		t.Errorf("the manifest does not say the terminal hung up")
	}
	if m.Partial || m.Ticks < 5 {
		t.Errorf("partial %v (%s), %d ticks: want the whole 5 s run", m.Partial, m.PartialReason, m.Ticks)
	}
	if m.BlockTrace != nil && m.BlockTrace.Instance != "" {
		if _, err := os.Stat(filepath.Join(m.BlockTrace.Tracefs, "instances", m.BlockTrace.Instance)); err == nil {
			t.Errorf("tracing instance %s left behind", m.BlockTrace.Instance)
		}
	}
}

// Issue 22, item 5: `-o -` into a pipe whose reader is gone. The write
// fails with EPIPE (not a silent death by SIGPIPE); the bundle goes to
// the fallback directory, and the collector says why and where, exit 3.
func TestStdoutReaderGoneFallsBack(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // no reader, from the start
	fallback := t.TempDir()
	cmd := exec.Command(bin, "-d", "2s", "-o", "-", "--no-strace", "--fallback-dir", fallback)
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	err = waitExit(t, cmd, 30*time.Second, "the collector did not finish")
	if code := exitCode(err); code != exitIncomplete {
		t.Fatalf("exit %d (%v), want 3; stderr:\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stdout") || !strings.Contains(stderr.String(), "broken pipe") || !strings.Contains(stderr.String(), fallback) {
		t.Errorf("stderr does not say stdout failed and where the bundle went:\n%s", stderr.String())
	}
	ents, _ := filepath.Glob(filepath.Join(fallback, "iorca-*.tar.zst"))
	if len(ents) != 1 {
		t.Fatalf("fallback holds %v", ents)
	}
	if m := readManifest(t, ents[0]); m.Ticks < 2 {
		t.Errorf("fallback bundle has %d ticks", m.Ticks)
	}
}
