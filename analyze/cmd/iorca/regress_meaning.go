package main

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// meaningDrift lists what a report now means differently from its
// expected one: whether there is a problem, the primary finding, the
// culprit (by kind, command, container, limit or device: never by PID,
// which a capture taken again changes), and the findings by id and
// severity. Wording, figures, order and PIDs are not meaning, nor is a
// changed threshold save through what it changes among these; --exact
// compares the bytes.
func meaningDrift(want, got *content.Report) []string {
	var out []string
	if want.Verdict.Problem != got.Verdict.Problem {
		out = append(out, fmt.Sprintf("problem: %v -> %v", want.Verdict.Problem, got.Verdict.Problem))
	}
	if want.Verdict.Primary != got.Verdict.Primary {
		out = append(out, fmt.Sprintf("primary finding: %s -> %s", orNone(want.Verdict.Primary), orNone(got.Verdict.Primary)))
	}
	if a, b := culpritMeaning(want.Verdict.Culprit), culpritMeaning(got.Verdict.Culprit); a != b {
		out = append(out, fmt.Sprintf("culprit: %s -> %s", a, b))
	}
	a, b := findingCounts(want.Findings), findingCounts(got.Findings)
	for _, k := range sortedKeys(a, b) {
		if a[k] != b[k] {
			out = append(out, fmt.Sprintf("finding %s: %d -> %d", k, a[k], b[k]))
		}
	}
	return out
}

// culpritMeaning is a culprit as people name it: what it is, not its PID.
func culpritMeaning(c *content.Culprit) string {
	if c == nil {
		return "none"
	}
	parts := []string{c.Kind}
	for _, s := range []string{c.Comm, c.Container, c.Serves, c.Workload, c.Limit, c.Device} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// findingCounts counts findings by "severity id".
func findingCounts(fs []content.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Severity.String()+" "+f.ID]++
	}
	return m
}

func sortedKeys(ms ...map[string]int) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// junitSuite is a JUnit XML report of a regress run: one test case per
// bundle, failed with what drifted, as CI systems read it.
type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}
