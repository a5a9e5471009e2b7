package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Swap makes a swap area of sizeMiB on a loop device of the test's own
// and turns it on; it is turned off (before the device is detached) when
// the test ends. It returns the device.
func Swap(t testing.TB, sizeMiB int) string {
	t.Helper()
	RequireTool(t, "mkswap")
	dev := LoopDevice(t, sizeMiB)
	MustRun(t, "mkswap", "-q", dev)
	MustRun(t, "swapon", dev)
	t.Cleanup(func() { exec.Command("swapoff", dev).Run() })
	return dev
}

// MemoryCgroup makes a memory cgroup limited to limitBytes (v1
// memory.limit_in_bytes, or v2 memory.max where the memory controller is
// on v2) and returns its directory. Its processes are killed and it is
// removed when the test ends.
func MemoryCgroup(t testing.TB, limitBytes int64) string {
	t.Helper()
	Live(t)
	name := fmt.Sprintf("iorca-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	var dir, limitFile string
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		dir, limitFile = filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes"
	} else if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && strings.Contains(string(b), "memory") {
		dir, limitFile = filepath.Join("/sys/fs/cgroup", name), "memory.max"
	} else {
		t.Skip("no memory cgroup controller on this machine")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				var pid int
				fmt.Sscan(f, &pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("memory cgroup %s could not be removed", dir)
	})
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(fmt.Sprint(limitBytes)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// StartIn starts the workload binary inside the cgroup dir, before it
// allocates anything (a shell joins the cgroup and then execs it), and
// kills it when the test ends.
func StartIn(t testing.TB, dir string, args ...string) *exec.Cmd {
	t.Helper()
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := fmt.Sprintf("echo $$ > %s/cgroup.procs && exec %s %s", dir, Build(t), strings.Join(q, " "))
	return Start(t, "sh", "-c", script)
}
