package fleet

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/pipeline"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/report/textdiff"
)

var samples sampletest.Memo[*content.Report]

// sampleReport is the content of samples/NAME.tar.zst's report, as
// pipeline.Run makes it with the default thresholds, once for all the
// tests.
func sampleReport(t testing.TB, name string) *content.Report {
	t.Helper()
	return samples.Get(name, func() *content.Report {
		res, err := pipeline.Run(sampletest.Path(t, name), pipeline.Defaults())
		if err != nil {
			t.Fatal(err)
		}
		return res.Report
	})
}

// sampleNames are the names of the shipped sample bundles.
func sampleNames(t testing.TB) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(sampletest.Dir(t), "*.tar.zst"))
	if len(paths) < 5 {
		t.Fatalf("%d sample bundles", len(paths))
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".tar.zst")
	}
	return names
}

// nodeJSON is a node as the fleet's JSON writes it.
func nodeJSON(t testing.TB, n *content.FleetNode) string {
	t.Helper()
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A report written as JSON and read back (report.ParseJSON) is the same
// fleet node as the report's content in-process, on every sample: a
// fleet of JSON reports made elsewhere reads as a fleet of bundles.
func TestNodeOfJSONRoundTrip(t *testing.T) {
	for _, name := range sampleNames(t) {
		t.Run(name, func(t *testing.T) {
			rc := sampleReport(t, name)
			var b bytes.Buffer
			if err := report.New(rc).JSON(&b); err != nil {
				t.Fatal(err)
			}
			back, err := report.ParseJSON(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			want, got := NodeOf(name+".tar.zst", rc), NodeOf(name+".tar.zst", back)
			// The capture's start is the same instant; its location
			// (time.Local in-process, a fixed zone from JSON) may differ.
			if !got.Window.Start.Equal(want.Window.Start) {
				t.Errorf("start %v, want %v", got.Window.Start, want.Window.Start)
			}
			got.Window.Start = want.Window.Start
			if !reflect.DeepEqual(got, want) {
				t.Errorf("node read from JSON differs (-in-process +from JSON):\n%s",
					textdiff.Unified("in-process", "from JSON", nodeJSON(t, want), nodeJSON(t, got), false))
			}
		})
	}
}

// NodeOf keeps what the fleet needs of a report, with a report's nil
// slices nil and its empty ones empty, as the report's JSON has them
// (null and []).
func TestNodeOf(t *testing.T) {
	rc := sampleReport(t, "swap-cgroup-limit")
	n := NodeOf("a/swap.tar.zst", rc)
	if n.Source != "a/swap.tar.zst" || n.Schema != content.ReportSchema || n.Key() != rc.Host || n.Labels != nil ||
		n.Verdict.Primary != "swap-io" || n.Verdict.Culprit == nil || n.Verdict.Culprit.Kind != "limit" || n.Verdict.Culprit.Comm != "cache-server" ||
		n.WorstDevice == nil || n.WorstDevice.Name != rc.WorstDevice.Name || n.Worst() != content.Warning || len(n.Findings) != len(rc.Findings) {
		t.Errorf("node %s", nodeJSON(t, n))
	}
	for i, f := range rc.Findings {
		if (f.Mitigations == nil) != (n.Findings[i].Mitigations == nil) || len(f.Mitigations) != len(n.Findings[i].Mitigations) {
			t.Errorf("finding %s: %d mitigations (nil: %v), want %d (nil: %v)", f.ID,
				len(n.Findings[i].Mitigations), n.Findings[i].Mitigations == nil, len(f.Mitigations), f.Mitigations == nil)
		}
	}
	// A hand-made report: labels, no findings, no device, no culprit.
	n = NodeOf("x.json", &content.Report{Host: "h", Node: "node-1", Labels: map[string]string{"zone": "z"}, Findings: []content.Finding{}})
	if n.Key() != "node-1" || n.Labels["zone"] != "z" || n.Findings == nil || len(n.Findings) != 0 || n.WorstDevice != nil || n.Verdict.Culprit != nil || n.Worst() != content.Info {
		t.Errorf("node %s", nodeJSON(t, n))
	}
	if n := NodeOf("y.json", &content.Report{Host: "h", Labels: map[string]string{}}); n.Labels != nil || n.Findings != nil {
		t.Errorf("no labels, no findings: %s; want both null", nodeJSON(t, n))
	}
}
