package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/nodestate"
	"github.com/iorca/iorca/samples/workload"
)

// stateOf reads a running collector's state file, waiting for its block
// trace to be recorded in it.
func stateOf(t *testing.T, pid int) nodestate.State {
	t.Helper()
	path := filepath.Join(nodestate.DefaultDir, strconv.Itoa(pid)+".json")
	var s nodestate.State
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile(path)
		if err == nil && json.Unmarshal(b, &s) == nil && s.Instance != "" {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no state file with a tracing instance at %s", path)
	return s
}

// otherCollectorsUseDelayAcct reports whether collectors not started by
// this test (other packages' tests run at the same time) need
// task_delayacct: then its value is theirs to restore.
func otherCollectorsUseDelayAcct(mine ...int) bool {
	ents, _ := filepath.Glob(filepath.Join(nodestate.DefaultDir, "*.json"))
	for _, e := range ents {
		var s nodestate.State
		b, _ := os.ReadFile(e)
		if json.Unmarshal(b, &s) != nil || !s.DelayAcct {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(s.PID)); err != nil {
			continue
		}
		isMine := false
		for _, p := range mine {
			isMine = isMine || p == s.PID
		}
		if !isMine {
			return true
		}
	}
	return false
}

// Issue 22, item 2: a collector killed with SIGKILL leaves its tracing
// instance recording and task_delayacct on. The next collector repairs
// both from the killed one's state file and says so in its manifest.
func TestKilledCollectorLeftoversRepaired(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	before, _ := nodestate.ReadDelayAcct()
	killed := exec.Command(bin, "-d", "60s", "-o", filepath.Join(t.TempDir(), "a.tar.zst"), "--no-strace", "-q")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killed.Process.Kill(); killed.Wait() })
	st := stateOf(t, killed.Process.Pid)
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	if _, err := os.Stat(st.Instance); err != nil {
		t.Fatalf("the killed collector's instance %s is not there to repair: %v", st.Instance, err)
	}

	out := filepath.Join(t.TempDir(), "b.tar.zst")
	next := exec.Command(bin, "-d", "1s", "-o", out, "--no-strace", "-q")
	if b, err := next.CombinedOutput(); exitCode(err) != exitComplete && exitCode(err) != exitIncomplete {
		t.Fatalf("the next collector: %v\n%s", err, b)
	}
	m := readManifest(t, out)
	if !strings.Contains(strings.Join(m.Repaired, "\n"), filepath.Base(st.Instance)) {
		t.Errorf("the manifest does not say the instance was removed: %q", m.Repaired)
	}
	if _, err := os.Stat(st.Instance); err == nil {
		t.Errorf("the killed collector's instance %s is still there", st.Instance)
	}
	if now, _ := nodestate.ReadDelayAcct(); now != before && !otherCollectorsUseDelayAcct() {
		t.Errorf("task_delayacct %s after the repair, was %s before the killed collector", now, before)
	}
}

// Issue 22, item 3: a recorder and a one-off capture at once. The one
// that ends first leaves task_delayacct on for the other (whose IO-wait
// figures would otherwise drop to zero) and does not unmount the tracefs
// the other still uses; its own trace is complete. The last restores.
func TestTwoCollectorsAtOnce(t *testing.T) {
	workload.Live(t)
	bin := buildCollector(t)
	before, _ := nodestate.ReadDelayAcct()
	long := exec.Command(bin, "-d", "6s", "-o", filepath.Join(t.TempDir(), "long.tar.zst"), "--no-strace", "-q")
	if err := long.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { long.Process.Kill(); long.Wait() })
	stateOf(t, long.Process.Pid)
	shortOut := filepath.Join(t.TempDir(), "short.tar.zst")
	short := exec.Command(bin, "-d", "2s", "-o", shortOut, "--no-strace", "-q")
	if b, err := short.CombinedOutput(); exitCode(err) != exitComplete && exitCode(err) != exitIncomplete {
		t.Fatalf("short collector: %v\n%s", err, b)
	}
	m := readManifest(t, shortOut)
	if bt := m.BlockTrace; bt == nil || bt.Status != "ok" || bt.Error != "" {
		t.Errorf("the short collector's block trace: %+v", bt)
	}
	if now, _ := nodestate.ReadDelayAcct(); now != "1" {
		t.Errorf("task_delayacct %s while the long collector still runs", now)
	}
	if err := waitExit(t, long, 30*time.Second, "the long collector did not finish"); exitCode(err) != exitComplete && exitCode(err) != exitIncomplete {
		t.Fatalf("long collector: %v", err)
	}
	if now, _ := nodestate.ReadDelayAcct(); now != before && !otherCollectorsUseDelayAcct() {
		t.Errorf("task_delayacct %s after both, was %s", now, before)
	}
}
