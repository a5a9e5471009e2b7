package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 9, scenario 1: two disks. A backup streams buffered writes to a
// disk that copes; a small journal writer makes 16 O_DSYNC writes a
// second to a slow disk (every write request waits 15 ms), which it keeps
// saturated. The culprit is the quiet writer that holds the slow disk's
// time; the loud backup is a neighbour, never the cause — with the block
// trace, and estimated without it.
func TestDeviceTimeQuietCulpritLoudNeighbour(t *testing.T) {
	for _, blockTrace := range []bool{true, false} {
		name := "block-trace"
		if !blockTrace {
			name = "estimate"
		}
		t.Run(name, func(t *testing.T) {
			slow := workload.SlowDisk(t, 256, "delay", "wdelay=15ms")
			slowMnt := workload.Ext4On(t, slow)
			fastMnt, _ := workload.LoopExt4(t, 512)
			backup := workload.StartWriter(t, "--file", filepath.Join(fastMnt, "backup.img"), "--size", "1048576", "--sync", "none", "--rate", "30", "--max-bytes", "256MiB")
			journal := workload.StartWriter(t, "--file", filepath.Join(slowMnt, "journal.log"), "--size", "512", "--sync", "odsync", "--rate", "16")
			cfg := livetest.Config(t, 8*time.Second)
			cfg.BlockTrace = blockTrace
			cfg.SelectAfter = 3 * time.Second
			r, md := runReport(t, livetest.Capture(t, cfg, 0))
			slowName := filepath.Base(slow)
			ok := checkFindings(t, r, []string{"device-saturated"}, nil)
			if c := r.Verdict.Culprit; c == nil || c.PID != journal.Process.Pid {
				t.Errorf("culprit %+v, want the journal writer %d", c, journal.Process.Pid)
				ok = false
			}
			for _, f := range r.Findings {
				if f.ID == "device-saturated" && f.Subjects.Device != slowName {
					t.Errorf("device-saturated names %s, want %s", f.Subjects.Device, slowName)
					ok = false
				}
				if f.ID == "dominant-io-process" && len(f.Subjects.PIDs) > 0 && f.Subjects.PIDs[0] == backup.Process.Pid && f.Severity != "info" {
					t.Errorf("the backup on the healthy disk is a %s dominant-io-process, want info (a neighbour)", f.Severity)
					ok = false
				}
			}
			if strings.Contains(r.Verdict.Summary, "saturated") && strings.Contains(r.Verdict.Summary, "backup") {
				t.Errorf("the verdict puts the backup in the sentence of the saturation: %s", r.Verdict.Summary)
				ok = false
			}
			if !blockTrace && r.Verdict.Confidence == "high" {
				t.Errorf("without a block trace the verdict is %s, want lowered", r.Verdict.Confidence)
				ok = false
			}
			if !ok || testing.Verbose() {
				t.Logf("report:\n%s", md)
			}
		})
	}
}
