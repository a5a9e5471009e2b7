package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21: a process that starts after the first target selection can
// still become a target. A shell starts an O_DSYNC writer 2.5 s into an
// 8 s capture whose first targets are picked after 1 s: the writer is a
// target, with its fds and a trace, and the report's culprit.
func TestLateStarterBecomesTarget(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	mnt, _ := workload.LoopExt4(t, 256)
	bin := workload.Build(t)
	sh := workload.Start(t, "bash", "-c", fmt.Sprintf("sleep 2.5; %s --file %s --size 512 --sync odsync --rate 100; wait", bin, filepath.Join(mnt, "late.log")))
	cfg := livetest.Config(t, 8*time.Second)
	path := livetest.Capture(t, cfg, 0)
	m := livetest.Load(t, path)
	var writer int
	for _, p := range m.Procs {
		if p.PPID == sh.Process.Pid && p.ReapedBy == 0 && p.Comm == "iorca-workload" {
			writer = p.PID
		}
	}
	if writer == 0 {
		t.Fatal("the late writer was never sampled")
	}
	iv := time.Duration(m.Manifest.Options.Interval)
	firstSelection := int((time.Duration(m.Manifest.Options.SelectAfter) + iv/2) / iv)
	var traced bool
	for _, tg := range m.Targets {
		if tg.Info.PID == writer {
			traced = tg.Info.Strace != nil && tg.Info.SelectedTick > firstSelection
			if len(tg.FDs) == 0 {
				t.Errorf("the late target's fds were not described")
			}
		}
	}
	if !traced {
		var got []string
		for _, tg := range m.Targets {
			got = append(got, fmt.Sprintf("%d (%s) at tick %d, traced %v: %s", tg.Info.PID, tg.Info.Comm, tg.Info.SelectedTick, tg.Info.Strace != nil, strings.Join(tg.Info.Reasons, "; ")))
		}
		t.Errorf("the writer PID %d, started after the first selection (tick %d), is not a traced late target; the targets:\n%s", writer, firstSelection, strings.Join(got, "\n"))
	}
	r, md := reporttest.Analyze(t, path)
	if c := r.Verdict.Culprit; c == nil || c.PID != writer {
		t.Errorf("culprit %+v, want the late writer %d:\n%s", c, writer, md)
	}
}
