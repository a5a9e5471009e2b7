package verdict

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// allSamples names every shipped sample bundle.
func allSamples(t *testing.T) []string {
	paths, err := filepath.Glob(filepath.Join(sampletest.Dir(t), "*.tar.zst"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var out []string
	for _, p := range paths {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".tar.zst"))
	}
	return out
}

// TestSeverityOrdersFindingsAndCause: on every sample the findings are
// listed most severe first, and the verdict's cause is never less severe
// than another finding that could be the cause (a warning about the
// syscalls that fill a tmpfs does not lead a critical filling).
func TestSeverityOrdersFindingsAndCause(t *testing.T) {
	for _, s := range allSamples(t) {
		d := Diagnose(sampleModel(t, s), window.Defaults())
		var primary *content.Finding
		for i := range d.Findings {
			f := &d.Findings[i]
			if i > 0 && f.Severity > d.Findings[i-1].Severity {
				t.Errorf("%s: %s %s listed below %s %s", s, f.Severity, f.ID, d.Findings[i-1].Severity, d.Findings[i-1].ID)
			}
			if f.ID == d.Verdict.Primary && primary == nil {
				primary = f
			}
		}
		if primary == nil {
			continue
		}
		for _, f := range d.Findings {
			if mayLead(&f) && f.Severity > primary.Severity {
				t.Errorf("%s: the cause %s is %s, below %s %s", s, primary.ID, primary.Severity, f.Severity, f.ID)
			}
		}
	}
}
