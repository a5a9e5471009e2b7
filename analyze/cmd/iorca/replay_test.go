package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

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
