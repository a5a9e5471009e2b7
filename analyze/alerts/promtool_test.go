package alerts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/iorca/iorca/analyze/alerts"
	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/report"
)

// TestPromtoolAgrees exports every sample bundle's counters as promtool
// input series and has `promtool test rules` check each alert its report
// proposes: it fires at the time the report claims, not one evaluation
// interval before. CI installs promtool (Debian's prometheus package);
// without it the test skips under -short and fails otherwise.
func TestPromtoolAgrees(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if testing.Short() {
			t.Skip("promtool not installed (apt-get install prometheus)")
		}
		t.Fatal("promtool not installed (apt-get install prometheus): CI installs it")
	}
	matches, _ := filepath.Glob(filepath.Join(sampletest.Dir(t), "*.tar.zst"))
	if len(matches) == 0 {
		t.Fatal("no samples")
	}
	tested := 0
	for _, path := range matches {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			res, err := pipeline.Run(path, pipeline.Defaults())
			if err != nil {
				t.Fatal(err)
			}
			as := res.Report.Monitoring.Alerts
			rules := report.ProofRuleFile(as, "prometheus")
			if rules == "" {
				return
			}
			if res.Series == nil {
				t.Fatal("alerts without their series")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o644); err != nil {
				t.Fatal(err)
			}
			test := alerts.PromtoolTest(res.Series, as, "rules.yml")
			if err := os.WriteFile(filepath.Join(dir, "test.yml"), []byte(test), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(promtool, "test", "rules", "test.yml")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool test rules: %v\n%s\nrules:\n%s", err, out, rules)
			}
			tested++
		})
	}
	if tested == 0 {
		t.Error("no sample proposed an alert rule")
	}
}
