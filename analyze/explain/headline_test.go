package explain

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/report/content"
)

// TestHeadlineSaysEachFactOnceWithItsImpact: on every sample the verdict
// names no path, cgroup or process twice (a second sentence about the
// same subject tells the same fact again: overlay-sync-logger said its
// log was written with O_SYNC three times), says how busy the device is
// when it hurts, and what fails when calls fail; within HeadlineWords.
func TestHeadlineSaysEachFactOnceWithItsImpact(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(sampletest.Dir(t), "*.tar.zst"))
	if len(paths) == 0 {
		t.Fatal("no samples")
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".tar.zst")
		r, d := build(t, name)
		h := r.Headline
		if n := len(strings.Fields(h)); n > HeadlineWords {
			t.Errorf("%s: %d words", name, n)
		}
		seen := map[string]int{}
		for _, s := range sentences(h) {
			for _, n := range names(s) {
				seen[n]++
			}
		}
		for n, k := range seen {
			if k > 1 {
				t.Errorf("%s: %s named in %d sentences of the verdict: %s", name, n, k, h)
			}
		}
		if !r.Verdict.Problem {
			continue
		}
		if hurt := d.Window.Hurting(); len(hurt) > 0 && r.WorstDevice != nil && !strings.Contains(h, r.WorstDevice.Name+" is ") {
			t.Errorf("%s: %s hurts, and the verdict does not say how: %s", name, r.WorstDevice.Name, h)
		}
		for _, f := range r.Findings {
			if n, ok := f.Figure(rules.FigFailedCalls); ok && n > 0 && !strings.Contains(h, "failed") {
				t.Errorf("%s: %s's calls failed, and the verdict does not say so: %s", name, f.ID, h)
			}
		}
	}
}

// A sentence about a path, cgroup or process already named restates; one
// about a new one, or about none, is kept while words remain.
func TestHeadlineDropsRestatements(t *testing.T) {
	var h headlineText
	for _, s := range []string{
		"PID 7 (logger) writes /var/log/a.log with O_SYNC: every write waits for the disk.",
		"Device sda is 90 % busy at 9.0 ms per request.",
		"PID 7 (logger) has /var/log/a.log open with O_SYNC (fd 3).",
		"It writes /var/log/a.log in 58-byte pieces.",
		"The device sda was busy 90 % of the time.",
		"PID 9 (db) waited for sda: its requests took 30.0 ms each.",
		"Each write costs the device 5.0 requests and 4.2 KiB.",
		"Each write costs the device 5.0 requests and 4348 bytes (its data, journal commits and cache flushes).",
	} {
		h.add(s)
	}
	want := "PID 7 (logger) writes /var/log/a.log with O_SYNC: every write waits for the disk. Device sda is 90 % busy at 9.0 ms per request. PID 9 (db) waited for sda: its requests took 30.0 ms each. Each write costs the device 5.0 requests and 4.2 KiB."
	if got := strings.TrimSpace(h.out); got != want {
		t.Errorf("headline\n%s\nwant\n%s", got, want)
	}
}

// When no part fits the budget the verdict is the first words of the
// first part that has any (an empty first sentence once made it slice
// nothing to 69 words).
func TestHeadlineOfPartsTooLong(t *testing.T) {
	long := strings.Repeat("word ", 90)
	r := &content.Report{Verdict: content.Verdict{Summary: ". " + long}}
	got := (&explainer{}).headline(r)
	if n := len(strings.Fields(got)); n != HeadlineWords || !strings.HasSuffix(got, " …") {
		t.Errorf("headline of %d words: %q", n, got)
	}
}
