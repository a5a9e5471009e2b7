package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
)

// Run is load, diagnose, explain: the report of a sample names the
// sample's bundle, carries the verdict of its diagnosis, and charts only
// when asked.
func TestRun(t *testing.T) {
	path := sampletest.Path(t, "fsync-storm")
	res, err := Run(path, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Bundle != "fsync-storm.tar.zst" || res.Report.Verdict.Summary != res.Diagnosis.Verdict.Summary || !res.Report.Verdict.Problem {
		t.Errorf("report %q, verdict %+v", res.Report.Bundle, res.Report.Verdict)
	}
	if len(res.Report.Charts) != 0 {
		t.Error("charts without Charts")
	}
	o := Defaults()
	o.Charts = true
	if res, _ := Run(path, o); len(res.Report.Charts) == 0 {
		t.Error("no charts with Charts")
	}
}

// The user's thresholds reach the rules: at an await threshold no device
// reaches, the saturated loop device of the slow-disk sample is no
// longer called saturated.
func TestRunThresholds(t *testing.T) {
	path := sampletest.Path(t, "overlay-slow-disk")
	has := func(o Options) bool {
		res, err := Run(path, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Diagnosis.Findings {
			if f.ID == "device-saturated" {
				return true
			}
		}
		return false
	}
	o := Defaults()
	if !has(o) {
		t.Fatal("no device-saturated finding at the defaults")
	}
	o.Thresholds.AwaitMS = 1e6
	if has(o) {
		t.Error("device-saturated at an await threshold of 1000 s")
	}
}

// A file that is not a bundle is a LoadError naming it.
func TestRunNotABundle(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(p, []byte("not a bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(p, Defaults())
	var le *LoadError
	if !errors.As(err, &le) || err.Error() == "" || !filepath.IsAbs(p) {
		t.Fatalf("err %v, want a LoadError", err)
	}
	if got := err.Error(); got[:len(p)] != p {
		t.Errorf("error %q does not start with the file's name", got)
	}
}
