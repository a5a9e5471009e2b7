package comparison

import (
	"slices"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

func diagnose(t *testing.T, name string) *verdict.Diagnosis {
	return verdict.Diagnose(sampletest.Model(t, name), window.Defaults())
}

// The overlay logger before its mitigation (O_SYNC writes onto the
// container's overlay) and after it (the same writer on a tmpfs volume):
// the sync and small-write findings are resolved, the device's and the
// container's rates are each side's own window figures, and the two
// bundles, made on one machine under two kernels, carry that warning.
func TestCompareBeforeAfterFix(t *testing.T) {
	before, after := diagnose(t, "overlay-sync-logger"), diagnose(t, "overlay-sync-logger-tmpfs")
	d := Compare("before.tar.zst", before, "after.tar.zst", after)
	if d.Schema != content.ComparisonSchema || d.Before.Bundle != "before.tar.zst" || d.After.Verdict.Summary != after.Verdict.Summary {
		t.Fatalf("sides: %+v / %+v", d.Before, d.After)
	}
	resolved := map[string]bool{}
	for _, f := range d.Resolved {
		resolved[f.ID] = true
		if f.SeverityAfter != "" || f.SeverityBefore == "" {
			t.Errorf("resolved %s: severities %q → %q", f.ID, f.SeverityBefore, f.SeverityAfter)
		}
	}
	for _, id := range []string{"sync-writes", "small-writes", "overlay-hot-path"} {
		if !resolved[id] {
			t.Errorf("%s not resolved: %+v", id, d.Resolved)
		}
	}
	for _, f := range d.New {
		if resolved[f.ID] && f.ID != "cpu-cost" {
			t.Errorf("%s both resolved and new", f.ID)
		}
	}
	// Each device row's figures are the windows' iostat -x.
	for _, row := range d.Devices {
		bx, aok := before.Window.Devices[row.Name]
		ax, bok := after.Window.Devices[row.Name]
		for _, fg := range row.Figures {
			if fg.Name != "w/s" {
				continue
			}
			if aok && fg.Before != bx.WPS || bok && fg.After != ax.WPS {
				t.Errorf("%s w/s %v → %v, windows say %v → %v", row.Name, fg.Before, fg.After, bx.WPS, ax.WPS)
			}
		}
	}
	if len(d.Devices) == 0 || len(d.Apps) == 0 {
		t.Fatalf("no device or application rows: %+v", d)
	}
	kb, ka := before.Window.Model.Manifest.Host.KernelRelease, after.Window.Model.Manifest.Host.KernelRelease
	warned := slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "kernels differ ("+kb+" and "+ka+")") })
	if (kb != ka) != warned {
		t.Errorf("kernels %s and %s, warnings %q", kb, ka, d.Warnings)
	}
}

// A bundle compared with itself changes nothing: every finding is
// unchanged, none resolved or new, and every figure is the same on both
// sides.
func TestCompareWithItself(t *testing.T) {
	d := diagnose(t, "fsync-storm")
	c := Compare("a", d, "b", d)
	if len(c.Resolved)+len(c.New) != 0 || len(c.Unchanged) == 0 || len(c.Warnings) != 0 {
		t.Errorf("resolved %v, new %v, unchanged %d, warnings %q", c.Resolved, c.New, len(c.Unchanged), c.Warnings)
	}
	for _, rows := range [][]content.ComparedRow{c.Devices, c.Apps} {
		for _, r := range rows {
			for _, f := range r.Figures {
				if f.Before != f.After {
					t.Errorf("%s %s: %v → %v", r.Name, f.Name, f.Before, f.After)
				}
			}
		}
	}
}
