package verdict

import (
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
)

// sampleModel is a sample's model, loaded once for the package's tests.
func sampleModel(t *testing.T, name string) *model.Model { return sampletest.Model(t, name) }

func TestDiagnoseIsDeterministic(t *testing.T) {
	m := sampleModel(t, "overlay-sync-logger")
	a := Diagnose(m, window.Defaults())
	for i := 0; i < 5; i++ {
		b := Diagnose(m, window.Defaults())
		if a.Verdict.Summary != b.Verdict.Summary || len(a.Findings) != len(b.Findings) {
			t.Fatal("two diagnoses of one bundle differ")
		}
		for j := range a.Findings {
			if a.Findings[j].ID != b.Findings[j].ID || a.Findings[j].Title != b.Findings[j].Title {
				t.Fatalf("finding %d differs", j)
			}
		}
	}
}
