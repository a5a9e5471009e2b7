package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/collector"
	"github.com/iorca/iorca/samples/workload"
)

// buildCollector builds the collector exactly as the README says.
func buildCollector(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "iorca-collect")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func readManifest(t *testing.T, path string) *bundle.Manifest {
	t.Helper()
	b, err := bundle.ReadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("bundle %s: %v", path, err)
	}
	return b.Manifest
}

// TestStaticBinary is acceptance 7 of issue 2.
func TestStaticBinary(t *testing.T) {
	workload.Exclusive(t) // a go build writes megabytes: not during a live scenario
	bin := buildCollector(t)
	out, _ := exec.Command("ldd", bin).CombinedOutput()
	if !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("ldd says %q", out)
	}
	// What it links is internal/archtest's.
}

func TestUsageAndExitCodes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	// Help asked for is on stdout, nothing on stderr.
	if code := run([]string{"--help"}, &stdout, &stderr); code != exitComplete || !strings.Contains(stdout.String(), "Exit status:") || !strings.Contains(stdout.String(), "Examples:") || stderr.Len() != 0 {
		t.Errorf("--help: code %d\n%s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String(), "[=true|false]") {
		t.Error("help shows pflag's [=true|false]")
	}
	for _, args := range [][]string{{"--bogus"}, {"-d", "0s"}, {"--max-bundle-bytes", "12"}, {"--strace-max-bytes", "lots"}, {"extra"},
		{"--trigger", "utl>80"}, {"--trigger", "util>80,"}, {"--wait", "10s"}, {"--trigger", "util>1", "--trigger-for", "0"},
		{"--record", "10ms"}, {"--record", "60s", "--record-bytes", "1KiB"}, {"--keep", "3"},
		{"--label", "zone"}, {"--label", "=x"}, {"--label", "-bad=x"}, {"--label", "a=1", "--label", "a=2"},
		{"--top", "11"}, {"--top", "500"},
		{"--redact", "a(b"}, {"--redact", "x", "--no-redact"}} {
		stderr.Reset()
		if code := run(args, &stdout, &stderr); code != exitUsage || !strings.HasPrefix(stderr.String(), "iorca-collect: ") {
			t.Errorf("%v: code %d, stderr %q", args, code, stderr.String())
		}
	}
	// A bad --redact pattern is one line that names it.
	stderr.Reset()
	if code := run([]string{"--redact", "ok", "--redact", "a(b"}, &stdout, &stderr); code != exitUsage || !strings.HasPrefix(stderr.String(), `iorca-collect: --redact "a(b": `) || strings.Count(stderr.String(), "\n") != 2 {
		t.Errorf("bad pattern: code %d, stderr %q", code, stderr.String())
	}
	if f, err := parseFlags([]string{"--redact", `k=(\w+)`, "--redact", "x", "-o", "/tmp/x.tar.zst"}, &stdout, &stderr); err != nil || len(f.cfg.RedactPatterns) != 2 || f.cfg.RedactPatterns[0] != `k=(\w+)` {
		t.Errorf("--redact twice: %v %+v", err, f)
	}
	if got := defaultOutput(time.Date(2026, 11, 27, 6, 10, 2, 0, time.UTC)); !strings.HasPrefix(got, "iorca-") || !strings.HasSuffix(got, "-20261127T061002Z.tar.zst") {
		t.Errorf("default output %q", got)
	}
}

func TestProgressLine(t *testing.T) {
	s := formatProgress(collector.Progress{Elapsed: 12 * time.Second, Duration: 30 * time.Second, Tick: 13, Ticks: 31, Targets: 3, Tracing: 2})
	want := "iorca-collect: 12s/30s (18s left)  tick 13/31  targets 3 (2 under strace)"
	if s != want {
		t.Errorf("progress %q, want %q", s, want)
	}
	// Redirected to a pipe or a buffer (a CI log), the line is off.
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if newProgressLine(w, false).enabled || newProgressLine(&bytes.Buffer{}, false).enabled {
		t.Error("progress line on for a pipe or buffer")
	}
}

// waitExit waits for a started command to exit, and fails the test with
// why, after killing it, when it has not within d.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration, why string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatal(why)
	}
	return nil
}

// TestSignalWritesPartialBundle: SIGINT or SIGTERM mid-run gives a valid,
// readable bundle marked partial, and exit status 3.
func TestSignalWritesPartialBundle(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		out := filepath.Join(t.TempDir(), "b.tar.zst")
		cmd := exec.Command(bin, "-d", "60s", "-o", out, "--select-after", "1s", "--strace-duration", "30s")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond)
		cmd.Process.Signal(sig)
		err := waitExit(t, cmd, 20*time.Second, fmt.Sprintf("%v: the collector did not stop", sig))
		if code := exitCode(err); code != exitIncomplete {
			t.Errorf("%v: exit %d, want 3; stderr:\n%s", sig, code, stderr.String())
		}
		m := readManifest(t, out)
		name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
		if !m.Partial || !strings.Contains(m.PartialReason, name) || m.Ticks < 2 || m.Ticks > 5 {
			t.Errorf("%v: partial=%v reason=%q ticks=%d", sig, m.Partial, m.PartialReason, m.Ticks)
		}
		if !strings.Contains(stderr.String(), "partial: ") {
			t.Errorf("%v: summary does not say partial:\n%s", sig, stderr.String())
		}
		for _, tg := range m.Targets {
			if tg.Strace != nil && tg.Strace.StopReason != "interrupted" && tg.Strace.StopReason != "target-exited" {
				t.Errorf("%v: strace of %d stopped by %q", sig, tg.PID, tg.Strace.StopReason)
			}
		}
	}
}

// TestUnprivilegedRunRecordsDenied runs the collector as nobody: reading
// root's /proc/PID/io gives EACCES and strace may not attach to a root
// process. The run completes, records both, and exits 3.
func TestUnprivilegedRunRecordsDenied(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	// t.TempDir's parent is private to root: nobody needs its own.
	dir, err := os.MkdirTemp("", "iorca-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "iorca-collect")
	if data, err := os.ReadFile(buildCollector(t)); err != nil || os.WriteFile(bin, data, 0o755) != nil {
		t.Fatal("copying the collector")
	}
	w := workload.StartWriter(t, "--file", filepath.Join(t.TempDir(), "a.log"), "--size", "60", "--rate", "200")
	out := filepath.Join(dir, "b.tar.zst")
	cmd := exec.Command(bin, "-d", "3s", "-o", out, "--select-after", "1s", "-p", itoa(w.Process.Pid), "--fallback-dir", "")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if code := exitCode(err); code != exitIncomplete {
		t.Fatalf("exit %d (%v), want 3; stderr:\n%s", code, err, stderr.String())
	}
	m := readManifest(t, out)
	var deniedIO, deniedStrace bool
	for _, p := range m.Errors {
		deniedIO = deniedIO || (p.Source == "proc-pid-io" && p.Status == bundle.StatusDenied)
		deniedStrace = deniedStrace || (p.Source == "strace" && p.Status == bundle.StatusDenied)
	}
	if !deniedIO || !deniedStrace || m.Collector.UID != 65534 {
		j, _ := json.MarshalIndent(m.Errors, "", " ")
		t.Errorf("uid %d, denied io %v, denied strace %v; errors:\n%s", m.Collector.UID, deniedIO, deniedStrace, j)
	}
}

// TestNoPSI hides /proc/pressure in a private mount namespace, as on a
// kernel without PSI: the collection completes and records the absence.
func TestNoPSI(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "unshare")
	bin := buildCollector(t)
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "b.tar.zst")
	script := `mount --bind "$1" /proc/pressure && exec "$2" -d 2s --no-strace -q -o "$3"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", empty, bin, out)
	outb, err := cmd.CombinedOutput()
	if code := exitCode(err); code != exitComplete && code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, outb)
	}
	m := readManifest(t, out)
	found := false
	for _, p := range m.Errors {
		found = found || (p.Path == "/proc/pressure/io" && p.Status == bundle.StatusAbsent)
	}
	if !found || m.Ticks != 3 {
		t.Errorf("ticks %d, PSI absence recorded %v: %+v", m.Ticks, found, m.Errors)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
