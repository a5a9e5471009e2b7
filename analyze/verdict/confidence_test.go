package verdict

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// content.Confidence follows the evidence (issue 10). The samples are clear cases
// captured over 6 s with 2 s of strace: their findings stay high. The
// cases where the evidence is thin are built from them: the same bundle
// cut to a shorter window, or read with a threshold that puts a figure
// just past it.

// findingByID is the first finding with that id, failing the test when
// there is none.
func findingByID(t *testing.T, d *Diagnosis, id string) content.Finding {
	t.Helper()
	for _, f := range d.Findings {
		if f.ID == id {
			return f
		}
	}
	var ids []string
	for _, f := range d.Findings {
		ids = append(ids, f.ID)
	}
	t.Fatalf("no %s finding; have %v", id, ids)
	return content.Finding{}
}

func TestSamplesKeepHighConfidence(t *testing.T) {
	for _, s := range []string{"fsync-storm", "overlay-sync-logger", "throttled-cgroup", "nginx-logger-stdout"} {
		d := Diagnose(sampleModel(t, s), window.Defaults())
		if d.Verdict.Confidence != content.High {
			t.Errorf("%s: verdict %s (%s), want high: a 6 s window, a 2 s trace and figures far past their thresholds", s, d.Verdict.Confidence, d.Verdict.ConfidenceWhy)
		}
		for _, f := range d.Findings {
			if f.Confidence != content.High && f.ConfidenceWhy == "" {
				t.Errorf("%s: %s is %s without a reason", s, f.ID, f.Confidence)
			}
		}
	}
}

// cut is a copy of a sample's model keeping its first n ticks: the same
// capture, stopped earlier.
func cut(t *testing.T, sample string, n int) *model.Model {
	m := *sampleModel(t, sample)
	if len(m.Ticks) < n {
		t.Fatalf("%s has %d ticks, want at least %d", sample, len(m.Ticks), n)
	}
	m.Ticks = m.Ticks[:n]
	return &m
}

func TestShortWindowLowersConfidence(t *testing.T) {
	for _, tc := range []struct {
		ticks int
		want  content.Confidence
		why   string
	}{
		{3, content.Medium, "2 intervals: too short to tell a burst from a steady load"},
		{2, content.Low, "one interval"},
	} {
		d := Diagnose(cut(t, "fsync-storm", tc.ticks), window.Defaults())
		if len(d.Findings) == 0 {
			t.Fatalf("%d ticks: no findings", tc.ticks)
		}
		for _, f := range d.Findings {
			if f.Confidence > tc.want || !strings.Contains(f.ConfidenceWhy, tc.why) {
				t.Errorf("%d ticks: %s is %s (%q), want at most %s because %q", tc.ticks, f.ID, f.Confidence, f.ConfidenceWhy, tc.want, tc.why)
			}
		}
		if d.Verdict.Confidence > tc.want || !strings.Contains(d.Verdict.ConfidenceWhy, tc.why) {
			t.Errorf("%d ticks: verdict %s (%q), want the primary finding's %s and reason", tc.ticks, d.Verdict.Confidence, d.Verdict.ConfidenceWhy, tc.want)
		}
	}
	// The full window keeps it.
	if f := findingByID(t, Diagnose(sampleModel(t, "fsync-storm"), window.Defaults()), "sync-writes"); f.Confidence != content.High {
		t.Errorf("full window: sync-writes %s (%s)", f.Confidence, f.ConfidenceWhy)
	}
}

// A state (a full filesystem) does not weaken with the window: a short
// capture of a full disk is as sure as a long one.
func TestShortWindowKeepsStates(t *testing.T) {
	f := content.Finding{ID: "fs-full", Confidence: content.High}
	c := window.New(cut(t, "fsync-storm", 2), window.Defaults())
	if _, _, ok := windowDoubt(c, &f); ok {
		t.Error("fs-full lowered by a short window")
	}
}

func TestMarginLowersConfidence(t *testing.T) {
	m := sampleModel(t, "fsync-storm")
	base := findingByID(t, Diagnose(m, window.Defaults()), "sync-writes")
	rate, _ := base.Figure(rules.FigSyncsPerS)
	th := window.Defaults()
	th.SyncMinPerSec = rate / 1.1 // passed by 10 %, inside the 20 % margin
	d := Diagnose(m, th)
	f := findingByID(t, d, "sync-writes")
	if f.Confidence != content.Medium || !strings.Contains(f.ConfidenceWhy, "close to its threshold") || !strings.Contains(f.ConfidenceWhy, "syncs a second") {
		t.Errorf("sync-writes 10 %% past its threshold: %s (%q), want medium, close to its threshold", f.Confidence, f.ConfidenceWhy)
	}
	if d.Verdict.Primary == "sync-writes" && d.Verdict.Confidence != content.Medium {
		t.Errorf("verdict on a close sync-writes: %s", d.Verdict.Confidence)
	}
	th.SyncMinPerSec = rate / 1.5 // well past
	if f := findingByID(t, Diagnose(m, th), "sync-writes"); f.Confidence != content.High {
		t.Errorf("sync-writes 50 %% past its threshold: %s (%q)", f.Confidence, f.ConfidenceWhy)
	}

	// A saturated device: await just past its threshold lowers it even
	// though %util is far past its own (every condition must hold).
	m = sampleModel(t, "overlay-slow-disk")
	sat := findingByID(t, Diagnose(m, window.Defaults()), "device-saturated")
	await, _ := sat.Figure(rules.FigAwaitMS)
	th = window.Defaults()
	th.AwaitMS = await / 1.05
	f = findingByID(t, Diagnose(m, th), "device-saturated")
	if f.Confidence != content.Medium || !strings.Contains(f.ConfidenceWhy, "ms await") {
		t.Errorf("await 5 %% past its threshold: %s (%q)", f.Confidence, f.ConfidenceWhy)
	}
}

// A claim about sizes resting on few traced writes: the slow disk's
// logger managed 31 traced writes in 2 s, enough at the default of 20,
// not at 40.
func TestFewTracedCallsLowerConfidence(t *testing.T) {
	m := sampleModel(t, "overlay-slow-disk")
	if f := findingByID(t, Diagnose(m, window.Defaults()), "small-writes"); f.Confidence != content.High {
		t.Fatalf("default: small-writes %s (%q)", f.Confidence, f.ConfidenceWhy)
	}
	th := window.Defaults()
	th.MinTraceCalls = 40
	f := findingByID(t, Diagnose(m, th), "small-writes")
	if f.Confidence != content.Medium || !strings.Contains(f.ConfidenceWhy, "strace saw only 31 writes") {
		t.Errorf("min_trace_calls=40: small-writes %s (%q)", f.Confidence, f.ConfidenceWhy)
	}
}

// Reasons at the level a confidence ends at are kept, each once.
func TestLowerKeepsReasons(t *testing.T) {
	f := content.Finding{Confidence: content.High}
	lower(&f, content.Medium, "a")
	lower(&f, content.Medium, "b")
	lower(&f, content.Medium, "a")
	lower(&f, content.High, "c")
	if f.Confidence != content.Medium || f.ConfidenceWhy != "a; b" {
		t.Errorf("got %s %q, want medium \"a; b\"", f.Confidence, f.ConfidenceWhy)
	}
	lower(&f, content.Low, "d")
	if f.Confidence != content.Low || f.ConfidenceWhy != "d" {
		t.Errorf("got %s %q, want low \"d\"", f.Confidence, f.ConfidenceWhy)
	}
}

// A block trace that lost events (the reader fell behind a burst) reads
// device times low: findings resting on it are at most of medium
// confidence, saying why; a loss under one event in a hundred changes
// nothing. (The sample's trace lost none; the losses are set here.)
func TestLostEventsLowerConfidence(t *testing.T) {
	base := sampleModel(t, "overlay-slow-disk")
	for _, tc := range []struct {
		lost int64
		want content.Confidence
	}{{0, content.High}, {int64(base.BlockTrace.Info.Lines) / 1000, content.High}, {int64(base.BlockTrace.Info.Lines) / 10, content.Medium}} {
		m := *base
		bt := *base.BlockTrace
		bt.Info.Overruns = tc.lost
		m.BlockTrace = &bt
		f := findingByID(t, Diagnose(&m, window.Defaults()), "device-saturated")
		if f.Confidence != tc.want || (tc.want == content.Medium && !strings.Contains(f.ConfidenceWhy, "block trace lost")) {
			t.Errorf("%d events lost: device-saturated %s (%q), want %s", tc.lost, f.Confidence, f.ConfidenceWhy, tc.want)
		}
		if note := bt.LostNote(); (tc.lost > 0) != (note != "") {
			t.Errorf("%d events lost: note %q", tc.lost, note)
		}
	}
}
