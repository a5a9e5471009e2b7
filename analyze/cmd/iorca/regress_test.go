package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// regress compares meaning by default: a reworded expected report still
// passes, a changed primary finding, culprit or severity fails and says
// which; --exact fails on the rewording too; --junit writes one test case
// per bundle, the failure's text included.
func TestRegressComparesMeaning(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(samplesDir, "fsync-storm.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "storm.tar.zst"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "storm2.tar.zst"), data, 0o644)
	md, _ := os.ReadFile(filepath.Join(samplesDir, "fsync-storm.md"))
	js, _ := os.ReadFile(filepath.Join(samplesDir, "fsync-storm.json"))
	// storm: reworded (a summary changed, a PID changed), same meaning.
	reworded := strings.Replace(string(js), `"summary": "PID`, `"summary": "Process`, 1)
	reworded = strings.Replace(reworded, `"pid": 9588`, `"pid": 19588`, 1)
	os.WriteFile(filepath.Join(dir, "storm.json"), []byte(reworded), 0o644)
	os.WriteFile(filepath.Join(dir, "storm.md"), md, 0o644)
	// storm2: another primary finding and a severity raised.
	changed := strings.Replace(string(js), `"primary_finding": "sync-writes"`, `"primary_finding": "small-writes"`, 1)
	changed = strings.Replace(changed, `"severity": "info"`, `"severity": "critical"`, 1)
	os.WriteFile(filepath.Join(dir, "storm2.json"), []byte(changed), 0o644)
	os.WriteFile(filepath.Join(dir, "storm2.md"), md, 0o644)
	junit := filepath.Join(dir, "junit.xml")

	var out, errb bytes.Buffer
	if code := run([]string{"regress", dir, "--junit", junit}, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want 1: %s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"ok   storm\n", "FAIL storm2: the report means something else now", "primary finding: small-writes -> sync-writes", "finding critical io-stalls: 1 -> 0", "1 passed, 1 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	var suite junitSuite
	raw, err := os.ReadFile(junit)
	if err != nil || xml.Unmarshal(raw, &suite) != nil {
		t.Fatalf("junit: %v\n%s", err, raw)
	}
	if suite.Tests != 2 || suite.Failures != 1 || len(suite.Cases) != 2 || suite.Cases[1].Failure == nil || !strings.Contains(suite.Cases[1].Failure.Text, "primary finding") {
		t.Errorf("junit suite %+v", suite)
	}

	out.Reset()
	if code := run([]string{"regress", dir, "--exact", "--color", "never"}, &out, &errb); code != exitFailure || !strings.Contains(out.String(), "FAIL storm: storm.json drifted") {
		t.Errorf("--exact: exit %d\n%s", code, out.String())
	}
}

// A culprit named by another command or running in another container is
// drift, though the findings stay the same: who did it is what a corpus
// of incidents checks.
func TestRegressCulpritChangeIsDrift(t *testing.T) {
	dir := t.TempDir()
	js, err := os.ReadFile(filepath.Join(samplesDir, "overlay-sync-logger.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"command":   {`"comm": "access-logger"`, `"comm": "other-logger"`},
		"container": {`"container": "web-7"`, `"container": "web-8"`},
	} {
		copyCorpusSample(t, dir, "overlay-sync-logger", name)
		changed := strings.Replace(string(js), edit[0], edit[1], 1)
		if changed == string(js) {
			t.Fatalf("%s: the expected report has no %s", name, edit[0])
		}
		os.WriteFile(filepath.Join(dir, name+".json"), []byte(changed), 0o644)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"regress", dir}, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{
		"FAIL command: the report means something else now:\n  culprit: process other-logger web-7 -> process access-logger web-7\n",
		"FAIL container: the report means something else now:\n  culprit: process access-logger web-8 -> process access-logger web-7\n",
		"0 passed, 2 failed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

// A changed threshold that changes no finding, no culprit and no primary
// is not drift by meaning (the report's figures and its list of changed
// thresholds differ, its meaning does not); --exact sees the bytes
// change.
func TestRegressThresholdLeavingFindingsPasses(t *testing.T) {
	dir := t.TempDir()
	copyCorpusSample(t, dir, "overlay-sync-logger", "logger")
	// No filesystem of the sample is near full: 98 % instead of 97 %
	// decides nothing.
	unrelated := []string{"--threshold", "fs_critical_pct=98"}
	var out, errb bytes.Buffer
	if code := run(append([]string{"regress", dir}, unrelated...), &out, &errb); code != exitOK || !strings.Contains(out.String(), "ok   logger\n") {
		t.Errorf("by meaning: exit %d, want 0\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(append([]string{"regress", dir, "--exact", "--color", "never"}, unrelated...), &out, &errb); code != exitFailure ||
		!strings.Contains(out.String(), "FAIL logger: logger.md drifted") || !strings.Contains(out.String(), "fs_critical_pct") {
		t.Errorf("--exact: exit %d, want 1 with the threshold in the diff\n%s", code, out.String())
	}
}
