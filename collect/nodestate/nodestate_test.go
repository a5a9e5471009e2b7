package nodestate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sysctl is a file standing for kernel.task_delayacct.
func sysctl(t *testing.T, v string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "task_delayacct")
	if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// child starts a real process to stand for another collector; kill ends
// it (and reaps it), as SIGKILL ends a collector.
func child(t *testing.T) (pid int, kill func()) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	kill = func() {
		if !done {
			cmd.Process.Kill()
			cmd.Wait()
			done = true
		}
	}
	t.Cleanup(kill)
	return cmd.Process.Pid, kill
}

// A collector killed with task_delayacct on and an instance recording:
// the next one to start removes the instance, restores the sysctl to its
// value before any collector, and says so.
func TestKilledCollectorRepaired(t *testing.T) {
	dir, da := t.TempDir(), sysctl(t, "0")
	inst := filepath.Join(t.TempDir(), "instances", "iorca-x")
	os.MkdirAll(inst, 0o755)
	pid, kill := child(t)
	dead, _, err := begin(dir, da, pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, on, err := dead.EnableDelayAcct(); err != nil || !on || read(t, da) != "1" {
		t.Fatalf("enable: %v %v, sysctl %s", on, err, read(t, da))
	}
	if err := dead.UseTracefs(filepath.Dir(filepath.Dir(inst)), inst, false); err != nil {
		t.Fatal(err)
	}
	kill() // no Release, no End: SIGKILL

	next, repairs, err := begin(dir, da, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer next.End()
	if read(t, da) != "0" {
		t.Errorf("task_delayacct %s after the repair, want 0", read(t, da))
	}
	if _, err := os.Stat(inst); !os.IsNotExist(err) {
		t.Errorf("the dead collector's instance is still there (%v)", err)
	}
	joined := strings.Join(repairs, "\n")
	if !strings.Contains(joined, "iorca-x") || !strings.Contains(joined, "task_delayacct") {
		t.Errorf("repairs:\n%s", joined)
	}
	if _, err := os.Stat(filepath.Join(dir, itoa(pid)+".json")); !os.IsNotExist(err) {
		t.Errorf("the dead collector's state file is still there")
	}
}

// Two collectors at once: the second finds task_delayacct on because of
// the first and shares it; the first to end leaves it on for the other;
// the last restores the value found before both. Likewise the tracefs
// the first mounted is unmounted by the last user only.
func TestTwoCollectorsShare(t *testing.T) {
	dir, da := t.TempDir(), sysctl(t, "0")
	other, _ := child(t)
	a, _, err := begin(dir, da, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := begin(dir, da, other)
	if err != nil {
		t.Fatal(err)
	}
	if before, on, _ := a.EnableDelayAcct(); before != "0" || !on {
		t.Fatalf("a: before %s, on %v", before, on)
	}
	if before, on, _ := b.EnableDelayAcct(); before != "1" || !on {
		t.Fatalf("b: before %s, shares %v; want it to share a's", before, on)
	}
	if restored, _ := a.ReleaseDelayAcct(); restored || read(t, da) != "1" {
		t.Errorf("a's end restored it (%v, sysctl %s) while b still samples", restored, read(t, da))
	}
	if restored, _ := b.ReleaseDelayAcct(); !restored || read(t, da) != "0" {
		t.Errorf("b's end: restored %v, sysctl %s; want 0", restored, read(t, da))
	}

	root := t.TempDir()
	a.UseTracefs(root, filepath.Join(root, "instances/iorca-a"), true)
	b.UseTracefs(root, filepath.Join(root, "instances/iorca-b"), false)
	if unmount, _ := a.ReleaseTracefs(); unmount {
		t.Error("a would unmount the tracefs b still uses")
	}
	if unmount, _ := b.ReleaseTracefs(); !unmount {
		t.Error("b, the last user of the tracefs a mounted, would not unmount it")
	}
	a.End()
	b.End()
	if ents, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(ents) != 0 {
		t.Errorf("state files left: %v", ents)
	}
}

// A PID reused by another process is not the collector that wrote the
// state file: its start time differs, and the file is a dead one's.
func TestReusedPIDIsDead(t *testing.T) {
	dir, da := t.TempDir(), sysctl(t, "0")
	pid, _ := child(t)
	s := State{PID: pid, StartTicks: startTicks(pid) + 1, DelayAcct: true}
	if err := writeState(dir, s); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, origDelayAcct), []byte("0\n"), 0o600)
	os.WriteFile(da, []byte("1\n"), 0o644)
	r, repairs, err := begin(dir, da, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer r.End()
	if read(t, da) != "0" || len(repairs) == 0 {
		t.Errorf("sysctl %s, repairs %v: the state of a reused PID was taken for a live collector", read(t, da), repairs)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
