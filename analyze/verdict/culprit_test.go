package verdict

import (
	"testing"

	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// A runtime helper serves its container and is not in it: the
// nginx-logger-stdout shim is named as serving nginx-logger-12, the
// overlay-sync-logger writer as in web-7.
func TestCulpritServesOrIsInContainer(t *testing.T) {
	for _, tc := range []struct{ sample, serves, rel string }{
		{"nginx-logger-stdout", "containerd-shim", "serving container"},
		{"overlay-sync-logger", "", "in container"},
	} {
		c := Diagnose(sampleModel(t, tc.sample), window.Defaults()).Verdict.Culprit
		if c == nil {
			t.Fatalf("%s: no culprit", tc.sample)
		}
		if c.Serves != tc.serves || c.ContainerRelation() != tc.rel {
			t.Errorf("%s: serves %q, %q; want %q, %q", tc.sample, c.Serves, c.ContainerRelation(), tc.serves, tc.rel)
		}
	}
}

// A limit culprit is named by its kind: swap-cgroup-limit's is the
// memory limit, never "the IO limit"; throttled-cgroup's is the IO limit.
func TestCulpritLimitKind(t *testing.T) {
	for _, tc := range []struct{ sample, kind string }{
		{"swap-cgroup-limit", "memory limit"},
		{"throttled-cgroup", "IO limit"},
	} {
		c := Diagnose(sampleModel(t, tc.sample), window.Defaults()).Verdict.Culprit
		if c == nil || c.Kind != "limit" || c.LimitKind != tc.kind {
			t.Errorf("%s: culprit %+v, want the %s", tc.sample, c, tc.kind)
		}
	}
}

// A cause of low confidence (a burst in one interval) is not the verdict
// beside a cause of the same role seen firmly, whatever their order in
// the catalogue; between equals the catalogue decides.
func TestBetterPrefersFirmCauses(t *testing.T) {
	burst := &content.Finding{ID: "write-amplification", Role: content.Cause, Severity: content.Warning, Confidence: content.Low}
	steady := &content.Finding{ID: "cpu-cost", Role: content.Cause, Severity: content.Warning, Confidence: content.High}
	if better(burst, steady) || !better(steady, burst) {
		t.Errorf("a low-confidence burst outranks a firm cause")
	}
	burst.Confidence = content.Medium
	if !better(burst, steady) {
		t.Errorf("between firm causes the catalogue order should decide")
	}
}
