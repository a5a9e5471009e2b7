package content

import (
	"encoding/json"
	"strings"
	"testing"
)

// Severities and confidences are written as their names and read back
// from them; a name that is not one is an error naming those that are.
func TestSeverityAndConfidenceJSON(t *testing.T) {
	for _, s := range []Severity{Info, Warning, Critical} {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got Severity
		if err := json.Unmarshal(data, &got); err != nil || got != s {
			t.Errorf("severity %s: %s read back as %s (%v)", s, data, got, err)
		}
	}
	for _, c := range []Confidence{Low, Medium, High} {
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var got Confidence
		if err := json.Unmarshal(data, &got); err != nil || got != c {
			t.Errorf("confidence %s: %s read back as %s (%v)", c, data, got, err)
		}
	}
	for _, tc := range []struct {
		name, in, wantErr string
		into              any
	}{
		{"unknown severity", `"fatal"`, `severity "fatal": want one of info, warning, critical`, new(Severity)},
		{"severity as a number", `2`, "severity: json: cannot unmarshal number", new(Severity)},
		{"unknown confidence", `"High"`, `confidence "High": want one of low, medium, high`, new(Confidence)},
	} {
		err := json.Unmarshal([]byte(tc.in), tc.into)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	// null leaves the value as it was, as encoding/json does.
	s, c := Critical, High
	if err := json.Unmarshal([]byte(`{"s": null, "c": null}`), &struct {
		S *Severity   `json:"s"`
		C *Confidence `json:"c"`
	}{&s, &c}); err != nil || s != Critical || c != High {
		t.Errorf("null: %s %s (%v), want critical high unchanged", s, c, err)
	}
}
