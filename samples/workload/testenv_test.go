package workload

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A live test must never signal a process it did not start. A stand-in
// for another checkout's go command (a sleep named "go", started outside
// the test's process group) stays running while a live test holds the
// machine; the live helpers used to SIGSTOP every "go" and "compile".
func TestLiveLeavesOtherProcessesAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("live test: -short skips it")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	fake := filepath.Join(t.TempDir(), "go")
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, data, 0o755); err != nil {
		t.Fatal(err)
	}
	other := Start(t, fake, "60")
	t.Run("live", func(t *testing.T) {
		Exclusive(t)
		time.Sleep(200 * time.Millisecond)
		if st := state(t, other.Process.Pid); st != "S" {
			t.Errorf("another process named go is in state %s while a live test runs", st)
		}
	})
	if st := state(t, other.Process.Pid); st != "S" {
		t.Errorf("another process named go is in state %s after a live test", st)
	}
}

func state(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// go test -short skips every live test: the helpers say so, and a live
// scenario run under -short reports SKIP without starting anything.
func TestShortSkipsLiveTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test -short itself")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	cmd := exec.Command(goBin, "test", "-short", "-count=1", "-v", "-run", "TestReportOverlaySyncAppender|TestLiveOverlaySyncWriter", "../../analyze/scenarios", "../../collect/collector")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test -short: %v\n%s", err, out)
	}
	for _, name := range []string{"TestReportOverlaySyncAppender", "TestLiveOverlaySyncWriter"} {
		if !strings.Contains(string(out), "--- SKIP: "+name) {
			t.Errorf("%s not skipped under -short:\n%s", name, out)
		}
	}
	if !strings.Contains(string(out), "live test: -short skips it") {
		t.Errorf("no skip message:\n%s", out)
	}
}
