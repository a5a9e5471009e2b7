package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/report/textdiff"
)

// What JSON writes, ParseJSON reads back into content that JSON writes
// again byte for byte: the hostile report, and every shipped sample's
// expected JSON report (samples/*.json, written by iorca report).
func TestParseJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := New(hostile()).JSON(&b); err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"hostile": b.Bytes()}
	samples, _ := filepath.Glob(filepath.Join("..", "samples", "*.json"))
	if len(samples) < 5 {
		t.Fatalf("%d sample JSON reports in ../samples", len(samples))
	}
	for _, p := range samples {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(p)] = data
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			c, err := ParseJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := New(c).JSON(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Bytes(), data) {
				t.Errorf("written again, the report differs (-read +written):\n%s", textdiff.Unified("read", "written", string(data), again.String(), false))
			}
		})
	}
}

// A report read from JSON is data: its lines come back as one Text span
// each, which Markdown escapes, and its findings' severities and
// confidences as their types.
func TestParseJSONContent(t *testing.T) {
	var b bytes.Buffer
	if err := New(hostile()).JSON(&b); err != nil {
		t.Fatal(err)
	}
	c, err := ParseJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Appendix.Limits) != 1 || len(c.Appendix.Limits[0]) != 1 || c.Appendix.Limits[0][0] != (content.Span{Kind: content.Text, S: "proc-pid-io denied: /proc/1/io <b>"}) {
		t.Errorf("limits %#v, want one Text span", c.Appendix.Limits)
	}
	if len(c.Findings) != 1 || c.Findings[0].Severity != content.Warning || c.Findings[0].Confidence != content.High || c.Verdict.Confidence != content.High {
		t.Errorf("findings %+v, verdict %+v: want a warning of high confidence, a verdict of high confidence", c.Findings, c.Verdict)
	}
	if c.Verdict.Culprit == nil || c.Verdict.Culprit.Comm != "we`ird" || c.Window.Ticks != 31 || c.Host != "node*1" {
		t.Errorf("verdict %+v, window %+v, host %q", c.Verdict, c.Window, c.Host)
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, wantErr string }{
		{"not JSON", "# IO report", "not a JSON report: "},
		{"no schema", `{"host": "a"}`, `schema "", want "iorca.report/v1"`},
		{"a fleet review", `{"schema": "iorca.fleet/v1", "nodes": []}`, `schema "iorca.fleet/v1", want "iorca.report/v1"`},
		{"schema not a string", `{"schema": 1}`, "not a JSON report: "},
		{"unknown severity", `{"schema": "iorca.report/v1", "findings": [{"id": "x", "severity": "fatal"}]}`, `severity "fatal"`},
		{"unknown confidence", `{"schema": "iorca.report/v1", "verdict": {"confidence": "sure"}}`, `confidence "sure"`},
		{"a limit not text", `{"schema": "iorca.report/v1", "limits": [1]}`, "line: "},
		{"trailing data", `{"schema": "iorca.report/v1"} {}`, "not a JSON report: "},
	} {
		_, err := ParseJSON([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// FuzzParseJSON proves that any input is read or refused without a
// panic, and that what is read writes and reads again.
func FuzzParseJSON(f *testing.F) {
	var b bytes.Buffer
	New(hostile()).JSON(&b)
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema": "iorca.report/v1", "findings": null, "limits": [null, ""]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseJSON(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := New(c).JSON(&out); err != nil {
			t.Fatalf("read, but not written: %v", err)
		}
		if _, err := ParseJSON(out.Bytes()); err != nil {
			t.Fatalf("written, but not read again: %v\n%s", err, out.Bytes())
		}
	})
}
