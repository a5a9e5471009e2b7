package scenarios

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 11: a process whose working set (192 MiB) is three times its
// memory cgroup's limit (64 MiB), on a node with gigabytes available,
// swaps to a swap area on a loop device of the test's own. The report
// names the process and its cgroup, says the node has room and that the
// limit makes it swap, and advises raising the limit by an amount (not
// "bound memory per workload", the opposite of the fix); the culprit is
// the limit; the swap device is named.
func TestSwapBehindMemoryLimit(t *testing.T) {
	swapDev := workload.Swap(t, 512)
	cg := workload.MemoryCgroup(t, 64<<20)
	toucher := workload.StartIn(t, cg, "--touch-mib", "192")
	time.Sleep(3 * time.Second) // its working set built, and pushed to swap
	cfg := livetest.Config(t, 6*time.Second)
	r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
	ok := true
	var swap *struct {
		ID       string
		Severity string
	}
	for _, f := range r.Findings {
		if f.ID == "swap-io" {
			swap = &struct {
				ID       string
				Severity string
			}{f.ID, f.Severity}
			if len(f.Subjects.PIDs) == 0 || f.Subjects.PIDs[0] != toucher.Process.Pid {
				t.Errorf("swap-io names %v, want the process %d", f.Subjects.PIDs, toucher.Process.Pid)
				ok = false
			}
		}
	}
	if swap == nil {
		t.Fatalf("no swap-io finding:\n%s", md)
	}
	if c := r.Verdict.Culprit; r.Verdict.Primary != "swap-io" || c == nil || c.Kind != "limit" || c.PID != toucher.Process.Pid {
		t.Errorf("primary %s, culprit %+v; want the memory limit holding %d", r.Verdict.Primary, c, toucher.Process.Pid)
		ok = false
	}
	plain := strings.ReplaceAll(md, `\_`, "_")
	for _, want := range []string{"is at its limit", filepath.Base(cg), "Raise the memory limit", "more than now", filepath.Base(swapDev)} {
		if !strings.Contains(plain, want) {
			t.Errorf("the report does not say %q", want)
			ok = false
		}
	}
	if strings.Contains(plain, "Bound memory per workload") {
		t.Error("the report advises bounding memory, the opposite of the fix")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
