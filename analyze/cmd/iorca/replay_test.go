package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/replay"
	"github.com/iorca/iorca/samples/workload"
)

// TestReplayEveryViewLive is acceptance 3 of issue 3: every view runs on
// a bundle the collector captured here, and on a partial one (collection
// interrupted); --at outside the span is a clear error giving the span.
func TestReplayEveryViewLive(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	logFile, _ := workload.OverlayAccessLog(t, 64)
	w := workload.StartWriter(t, "--file", logFile, "--size", "60", "--sync", "osync", "--rate", "300")
	pid := strconv.Itoa(w.Process.Pid)

	full := livetest.Capture(t, livetest.Config(t, 4*time.Second), 0)
	partial := livetest.Capture(t, livetest.Config(t, 30*time.Second), 3500*time.Millisecond)
	if m := livetest.Load(t, partial); !m.Manifest.Partial {
		t.Fatal("the interrupted bundle is not marked partial")
	}
	for _, path := range []string{full, partial} {
		for _, v := range replay.Views {
			args := []string{"replay", path, v.Name}
			if v.Name == "pidio" {
				args = append(args, pid)
			}
			if v.Name == "findmnt" {
				args = append(args, "--target", logFile, "--pid", pid)
			}
			for _, format := range []string{"text", "json"} {
				var out, errb bytes.Buffer
				code := run(append(args, "--format", format), &out, &errb)
				if code != exitOK || out.Len() == 0 {
					t.Errorf("%s %s (%s): exit %d, stderr %q", filepath.Base(path), v.Name, format, code, errb.String())
					continue
				}
				if format == "json" && !json.Valid(out.Bytes()) {
					t.Errorf("%s %s: invalid JSON", filepath.Base(path), v.Name)
				}
			}
		}
	}
	// Spot checks: the writer is in iotop and pidio; findmnt sees the overlay.
	var out, errb bytes.Buffer
	run([]string{"replay", full, "iotop", "--summary"}, &out, &errb)
	if !strings.Contains(out.String(), pid+" ") {
		t.Errorf("iotop --summary does not list the writer %s:\n%s", pid, out.String())
	}
	out.Reset()
	run([]string{"replay", full, "findmnt", "--target", logFile, "--pid", pid}, &out, &errb)
	if !strings.Contains(out.String(), "overlayfs layers") || !strings.Contains(out.String(), "upper") {
		t.Errorf("findmnt -T does not show the overlay:\n%s", out.String())
	}
	out.Reset()
	run([]string{"replay", full, "strace", "--pid", pid}, &out, &errb)
	if !strings.Contains(out.String(), logFile) {
		t.Errorf("strace summary does not name %s:\n%s", logFile, out.String())
	}

	out.Reset()
	errb.Reset()
	code := run([]string{"replay", full, "iostat", "--at", "+1h"}, &out, &errb)
	if code != exitBadInput || !strings.Contains(errb.String(), "outside the capture, which spans") {
		t.Errorf("--at outside: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	code = run([]string{"replay", full, "iostat", "--tick", "99"}, &out, &errb)
	if code != exitBadInput || !strings.Contains(errb.String(), "ticks 0-") {
		t.Errorf("--tick outside: exit %d, %q", code, errb.String())
	}
}

// The timeline marks the onset of the incident the user's thresholds
// find: the bulk writer's buffered writes are no problem at the defaults
// (no onset), and one at thresholds that call any busy moment a problem.
func TestReplayTimelineThresholds(t *testing.T) {
	path := filepath.Join(samplesDir, "bulk-writer.tar.zst")
	var def, low, errb bytes.Buffer
	if code := run([]string{"replay", path, "timeline"}, &def, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if strings.Contains(def.String(), "onset") {
		t.Fatalf("onset at the default thresholds:\n%s", def.String())
	}
	args := []string{"replay", path, "timeline", "--threshold", "psi_some_pct=0.01", "--threshold", "dominant_share=0.1", "--threshold", "util_pct=1", "--threshold", "await_ms=0.01"}
	if code := run(args, &low, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(low.String(), "onset") {
		t.Errorf("no onset at low thresholds:\n%s", low.String())
	}
	errb.Reset()
	if code := run([]string{"replay", path, "timeline", "--threshold", "bogus=1"}, &low, &errb); code != exitBadInput || !strings.HasPrefix(errb.String(), "iorca replay: ") {
		t.Errorf("bad threshold: exit %d, %q", code, errb.String())
	}
}
