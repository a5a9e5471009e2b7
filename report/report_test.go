package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/internal/table"
	"github.com/iorca/iorca/report/content"
)

// hostile is a report whose data holds what a bundle may hold: Markdown
// and HTML syntax in names, backticks in a command line, a pipe in a
// path. The renderer must quote it, never interpret it.
func hostile() *content.Report {
	metrics := &table.Table{Columns: []table.Column{{Name: "Layer", Left: true}}}
	metrics.Add(table.Text("device"))
	iotop := &table.Table{Columns: []table.Column{{Name: "Command", Left: true}}}
	iotop.Add(table.Text("a|b <script>"))
	return &content.Report{
		Title:  "IO report: node*1, 2026-11-29 21:00:00 to 21:00:30 UTC",
		Bundle: "node1.tar.zst",
		Host:   "node*1",
		Intro:  content.Linef("Bundle %s, kernel %s.", content.AsCode("node1.tar.zst"), content.AsText("6.1_*x*")),
		Window: content.Window{Start: time.Unix(0, 0).UTC(), End: time.Unix(30, 0).UTC(), Seconds: 30, Ticks: 31},
		Verdict: content.Verdict{Problem: true, Summary: "The writer <script>alert(1)</script> floods *everything*.", Confidence: content.High,
			Culprit: &content.Culprit{PID: 42, Comm: "we`ird", Cmdline: "sh -c 'echo `id`'"}, Primary: "small-writes"},
		Chain: []content.Step{{Title: "Who does the IO", Source: content.Linef("iotop over %d s, %s", 30, content.AsCode("ticks/000000.frames")),
			Facts: []content.Fact{{Text: content.Linef("PID %d %s wrote", 42, content.AsCode("we`ird")), Quote: "write(3</a|b>, \"x\", 1) = 1"}}}},
		Findings: []content.Finding{{ID: "small-writes", Title: "Small writes to a|b", Severity: content.Warning, Confidence: content.High,
			Summary: "It writes [a link](http://x) 100 times.", Subjects: content.Subjects{PIDs: []int{42}, Path: "/a|b"},
			Evidence:    []content.Evidence{{Member: "strace/42.txt", What: "1 write", Lines: []string{"write(3, `x`, 1)"}}},
			Mitigations: []content.Mitigation{{Horizon: content.Immediate, Action: "Buffer", How: "a|b", Effect: "fewer"}}}},
		Mitigations: []content.MitigationGroup{{Horizon: content.Immediate, Rows: []content.MitigationRow{{Mitigation: content.Mitigation{Horizon: content.Immediate, Action: "Buffer", How: "a|b", Effect: "fewer"}, Findings: []string{"small-writes"}}}}},
		Monitoring:  content.Monitoring{Metrics: metrics, Alerts: []content.Alert{{Name: "A_b", Kind: "prometheus", Expr: `rate(x{d="a|b"}[1s]) > 1`, For: "1s", Labels: map[string]string{"severity": "warning"}, FiresAt: time.Unix(3, 0), FiresAfter: 3, Finding: "small-writes"}}},
		Appendix: content.Appendix{Iotop: iotop, Iostat: &table.Table{Columns: []table.Column{{Name: "Device", Left: true}}},
			Limits: []content.Line{content.Linef("%s denied: %s", content.AsCode("proc-pid-io"), content.AsText("/proc/1/io <b>"))}, Thresholds: []content.Threshold{{Name: "util_pct", Value: 80}, {Name: "big", Value: 1 << 20}}},
	}
}

func TestMarkdownQuotesData(t *testing.T) {
	var b bytes.Buffer
	if err := New(hostile()).Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# IO report: node\\*1",          // title escaped
		"**Culprit:** PID 42 ``we`ird``", // backtick in code gets a longer fence
		"1. **Who does the IO** — iotop over 30 s, `ticks/000000.frames`",
		"     `write(3</a|b>, \"x\", 1) = 1`", // the quote, as code
		"&lt;script&gt;",                      // HTML in data is escaped
		"## Immediate actions",                // the first horizon
		`expr: "rate(x{d=\"a|b\"}[1s]) > 1"`,  // the rule, quoted YAML
		"- `proc-pid-io` denied: /proc/1/io &lt;b&gt;",
		"`util_pct=80 big=1048576`", // the given order, no exponent
		"No device did IO.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<script>") {
		t.Error("raw <script> in the Markdown")
	}
	var again bytes.Buffer
	New(hostile()).Markdown(&again)
	if again.String() != md {
		t.Error("two renderings differ")
	}
}

// A hand-made culprit line: a runtime helper serves its container, and a
// limit is named by its kind.
func TestMarkdownCulpritLine(t *testing.T) {
	for _, tc := range []struct {
		cp   content.Culprit
		want string
	}{
		{content.Culprit{Kind: "process", PID: 7, Comm: "containerd-shim", Container: "web", Serves: "containerd-shim"}, "PID 7 `containerd-shim` serving container `web`"},
		{content.Culprit{Kind: "process", PID: 8, Comm: "nginx", Container: "web"}, "PID 8 `nginx` in container `web`"},
		{content.Culprit{Kind: "limit", LimitKind: content.MemoryLimit.String(), Limit: "at 64 MiB", PID: 9, Comm: "cache"}, "**Culprit:** the memory limit — at 64 MiB"},
	} {
		r := hostile()
		r.Verdict.Culprit = &tc.cp
		var b bytes.Buffer
		if err := New(r).Markdown(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("Markdown lacks %q", tc.want)
		}
	}
}

func TestJSONHasEvidenceChain(t *testing.T) {
	var b bytes.Buffer
	if err := New(hostile()).JSON(&b); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Schema string `json:"schema"`
		Chain  []struct {
			Title  string `json:"title"`
			Source string `json:"source"`
			Facts  []struct {
				Text  string `json:"text"`
				Quote string `json:"quote"`
			} `json:"facts"`
		} `json:"evidence_chain"`
		Limits []string `json:"limits"`
	}
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Schema != "iorca.report/v1" || len(r.Chain) != 1 || r.Chain[0].Source != "iotop over 30 s, ticks/000000.frames" ||
		r.Chain[0].Facts[0].Text != "PID 42 we`ird wrote" || r.Chain[0].Facts[0].Quote == "" {
		t.Errorf("evidence chain as JSON: %+v", r.Chain)
	}
	if len(r.Limits) != 1 || r.Limits[0] != "proc-pid-io denied: /proc/1/io <b>" {
		t.Errorf("limits are not plain text: %q", r.Limits)
	}
}

func TestHTMLPassesNoMarkup(t *testing.T) {
	var b bytes.Buffer
	if err := New(hostile()).HTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<h2>Verdict</h2>") || !strings.Contains(page, "<table>") {
		t.Errorf("page: %.300s", page)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>") {
		t.Error("markup from the data reached the page")
	}
}

// A report of a healthy node says no mitigation is needed.
func TestNoProblemNoMitigations(t *testing.T) {
	c := hostile()
	c.Verdict = content.Verdict{Summary: "No IO problem found.", Confidence: content.High}
	c.Mitigations = nil
	var b bytes.Buffer
	New(c).Markdown(&b)
	if !strings.Contains(b.String(), "None needed: no warning or critical finding.") {
		t.Errorf("no 'None needed':\n%s", b.String())
	}
}

// TestSubjectsNameReapedChildren: the process that stands for a parent's
// reaped children has PID -N in the model; the report names them, never
// "PID -N".
func TestSubjectsNameReapedChildren(t *testing.T) {
	got := subjectsText(content.Subjects{PIDs: []int{-30647, 12}, Container: "web-7"})
	if want := "PID 12; the exited children of PID 30647; container `web-7`"; got != want {
		t.Errorf("subjects %q, want %q", got, want)
	}
}
