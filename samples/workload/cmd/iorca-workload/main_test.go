package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The workload's flags parse: a flag defined twice (two modes merged)
// panics at start-up, and every live test and sample script would fail
// with it. It runs for a moment as the loggers of the samples do.
func TestFlagsParse(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "iorca-workload")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "--help").CombinedOutput(); err != nil && !strings.Contains(string(out), "Usage") {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	log := filepath.Join(dir, "a.log")
	cmd := exec.Command(bin, "--file", log, "--size", "58", "--sync", "none", "--max-bytes", "64KiB")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if st, err := os.Stat(log); err == nil && st.Size() > 0 {
			break
		}
		exec.Command("sleep", "0.02").Run()
	}
	cmd.Process.Kill()
	err := cmd.Wait()
	if st, serr := os.Stat(log); serr != nil || st.Size() == 0 {
		t.Errorf("the writer wrote nothing: %v (exit: %v)", serr, err)
	}
}
