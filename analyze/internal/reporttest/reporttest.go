// Package reporttest reads iorca's JSON report in tests: the part of it
// the tests check, and the findings it holds. The analyzer's command
// tests and the end-to-end scenarios share it.
package reporttest

import (
	"encoding/json"
	"testing"
	"time"
)

// Report is the part of the JSON report the tests read.
type Report struct {
	Schema  string `json:"schema"`
	Verdict struct {
		Problem          bool   `json:"problem"`
		Summary          string `json:"summary"`
		Confidence       string `json:"confidence"`
		ConfidenceReason string `json:"confidence_reason"`
		Culprit          *struct {
			PID       int    `json:"pid"`
			Comm      string `json:"comm"`
			Container string `json:"container"`
			Processes int    `json:"processes"`
			Kind      string `json:"kind"`
			Device    string `json:"device"`
		} `json:"culprit"`
		Primary string `json:"primary_finding"`
		Onset   *struct {
			Tick            int       `json:"tick"`
			Time            time.Time `json:"time"`
			UnderWay        bool      `json:"under_way"`
			Condition       string    `json:"condition"`
			BaselineSeconds float64   `json:"baseline_seconds"`
			Changes         []string  `json:"changes"`
			WindowFrom      int       `json:"window_from"`
		} `json:"onset"`
		Trigger *struct {
			Expression string    `json:"expression"`
			Tick       int       `json:"tick"`
			Time       time.Time `json:"time"`
		} `json:"trigger"`
	} `json:"verdict"`
	Findings []Finding `json:"findings"`
}

// Finding is the part of a finding the tests read.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	Subjects struct {
		PIDs   []int  `json:"pids"`
		Path   string `json:"path"`
		Device string `json:"device"`
	} `json:"subjects"`
}

// Decode reads a JSON report, failing the test when it is not one.
func Decode(t testing.TB, b []byte) Report {
	t.Helper()
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	return r
}

// IDs are the report's finding ids.
func IDs(r Report) map[string]bool {
	out := map[string]bool{}
	for _, f := range r.Findings {
		out[f.ID] = true
	}
	return out
}

// CheckFindings reports whether every present id is among the report's
// findings and no absent one is, saying which are not.
func CheckFindings(t testing.TB, r Report, present, absent []string) bool {
	t.Helper()
	got := IDs(r)
	ok := true
	for _, id := range present {
		if !got[id] {
			t.Errorf("finding %s missing; got %v", id, got)
			ok = false
		}
	}
	for _, id := range absent {
		if got[id] {
			t.Errorf("finding %s present, must not be; got %v", id, got)
			ok = false
		}
	}
	return ok
}

// HasFinding reports whether the report holds a finding of rule id.
func HasFinding(r Report, id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}
