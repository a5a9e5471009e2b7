package accounting

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21, item 2: time on a lower device belongs to whoever sent the
// requests above it. A loop device is backed by a file on a slow disk; on
// the loop device's ext4 a heavy O_DIRECT writer and a light O_DSYNC
// heartbeat (13-byte lines, 11 a second) share the filesystem. The slow
// disk's time is the loop worker's and the flushers', writing the backing
// file: it is charged through the loop device to the heavy writer, which
// sent it nearly all its bytes, not to the heartbeat nor left with kernel
// threads, and the heavy writer is the culprit; the heartbeat, whose every
// write waits for a flush of the heavy writer's data, is its victim.
func TestStackedLoopChargedToItsWriters(t *testing.T) {
	slow := workload.SlowDisk(t, 1024, "delay", "wdelay=2ms")
	lowerMnt := workload.Ext4On(t, slow)
	backing := filepath.Join(lowerMnt, "backing.img")
	if err := os.WriteFile(backing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(backing, 600<<20); err != nil {
		t.Fatal(err)
	}
	upper := workload.LoopOnFile(t, backing)
	mnt := workload.Ext4On(t, upper)
	heavy := workload.StartProgram(t, "bulk-load", "--file", filepath.Join(mnt, "heavy.dat"), "--size", "1048576", "--direct", "--max-bytes", "256MiB")
	beat := workload.StartProgram(t, "heartbeat", "--file", filepath.Join(mnt, "heartbeat.log"), "--size", "13", "--sync", "odsync", "--rate", "11")
	cfg := livetest.Config(t, 8*time.Second)
	cfg.SelectAfter = 2 * time.Second
	path := livetest.Capture(t, cfg, 0)
	m := livetest.Load(t, path)
	w := window.New(m, window.Defaults())
	lower := filepath.Base(slow)
	dt := w.DeviceTimes[lower]
	if dt == nil || dt.BusyNS <= 0 {
		t.Fatalf("no device time on the lower device %s", lower)
	}
	hs, bs := dt.Find(heavy.Process.Pid), dt.Find(beat.Process.Pid)
	var kernel float64
	for _, s := range dt.Shares {
		if s.Kernel {
			kernel += dt.Fraction(s)
		}
	}
	if hs == nil || dt.Fraction(hs) < 0.5 || hs.StackedNS <= 0 {
		t.Errorf("the heavy writer holds %v of %s (want most, through %s); kernel threads %.0f %%", hs, lower, filepath.Base(upper), kernel*100)
	}
	if bs != nil && dt.Fraction(bs) > 0.1 {
		t.Errorf("the heartbeat holds %.0f %% of %s", dt.Fraction(bs)*100, lower)
	}
	// On the loop device itself most of the time is its cache flushes:
	// each heartbeat's commit makes loop fsync the backing file, which
	// writes out the heavy writer's data. That time is the heavy
	// writer's load; the heartbeat waits for it (a victim, with the
	// latency of its synchronous writes).
	if up := w.DeviceTimes[filepath.Base(upper)]; up == nil {
		t.Errorf("no device time on the loop device %s", upper)
	} else {
		hu, bu := up.Find(heavy.Process.Pid), up.Find(beat.Process.Pid)
		if hu == nil || up.Fraction(hu) < 0.7 {
			t.Errorf("the heavy writer holds %v of %s, want most (its data is what the flushes write)", hu, upper)
		}
		if bu != nil && up.Fraction(bu) > 0.2 {
			t.Errorf("the heartbeat holds %.0f %% of %s", up.Fraction(bu)*100, upper)
		}
	}
	r, md := reporttest.Analyze(t, path)
	if c := r.Verdict.Culprit; c == nil || c.PID != heavy.Process.Pid {
		t.Errorf("culprit %+v, want the heavy writer %d", c, heavy.Process.Pid)
	}
	// The heartbeat is the victim, with its wait: the latency of its
	// synchronous writes, or — when none completed while it was traced,
	// as in runs where each waits seconds behind the heavy writer's data —
	// its threads asleep waiting for the journal commit its write forced,
	// or at least its D state in the samples (when it was no target).
	victim := false
	for _, f := range r.Findings {
		if f.ID == "io-victims" && slices.Contains(f.Subjects.PIDs, beat.Process.Pid) {
			victim = strings.Contains(f.Summary, "synchronous writes") || strings.Contains(f.Summary, "waiting in jbd2_log_wait_commit") || strings.Contains(f.Summary, "in D state in")
		}
	}
	if !victim {
		// The heartbeat is a target by its synchronous write requests
		// even where busier bystanders outrank it in bytes and calls
		// (before, on a loaded machine it was not traced, and its
		// jbd2_log_wait_commit waits, no block-IO delay, went unseen).
		t.Errorf("the heartbeat %d is not named as a victim with its wait", beat.Process.Pid)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("lower %s: heavy %.0f %%, kernel %.0f %%\n%s", lower, dt.Fraction(hs)*100, kernel*100, md)
	}
}
