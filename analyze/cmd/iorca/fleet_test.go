package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/report/content"
)

// fleetJSON runs iorca fleet with args and decodes its JSON.
func fleetJSON(t *testing.T, args ...string) *content.Fleet {
	t.Helper()
	return reporttest.Fleet(t, run, args...)
}

// The shipped samples as a fleet, with a corrupt bundle among them: every
// sample is one node whose verdict is its expected report's, the corrupt
// one is one line of "unreadable", and the findings are counted over the
// nodes.
func TestFleetOfSamples(t *testing.T) {
	dir := t.TempDir()
	bundles, _ := filepath.Glob(filepath.Join(samplesDir, "*.tar.zst"))
	if len(bundles) < 5 {
		t.Fatalf("%d sample bundles", len(bundles))
	}
	want := map[string]string{} // sample file -> expected primary finding
	hosts := map[string]bool{}
	problems, critical := 0, 0
	for _, b := range bundles {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(b)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Host    string `json:"host"`
			Verdict struct {
				Problem bool   `json:"problem"`
				Primary string `json:"primary_finding"`
			} `json:"verdict"`
			Findings []struct {
				Severity string `json:"severity"`
			} `json:"findings"`
		}
		j, err := os.ReadFile(strings.TrimSuffix(b, ".tar.zst") + ".json")
		if err != nil || json.Unmarshal(j, &exp) != nil {
			t.Fatalf("expected report of %s: %v", b, err)
		}
		want[filepath.Base(b)] = exp.Verdict.Primary
		hosts[exp.Host] = true
		if exp.Verdict.Problem {
			problems++
		}
		for _, f := range exp.Findings {
			if f.Severity == "critical" {
				critical++
				break
			}
		}
	}
	// A bundle cut in half: a truncated download.
	data, _ := os.ReadFile(bundles[0])
	os.WriteFile(filepath.Join(dir, "truncated.tar.zst"), data[:len(data)/2], 0o644)

	s := fleetJSON(t, dir)
	if len(s.Nodes) != len(bundles) || s.Problems != problems || s.Distinct != len(hosts) {
		t.Errorf("%d captures of %d nodes, %d with a problem; want %d of %d and %d", len(s.Nodes), s.Distinct, s.Problems, len(bundles), len(hosts), problems)
	}
	if len(s.Unreadable) != 1 || filepath.Base(s.Unreadable[0].Source) != "truncated.tar.zst" || !strings.Contains(s.Unreadable[0].Error, "truncated") {
		t.Errorf("unreadable %+v, want the truncated bundle, saying so", s.Unreadable)
	}
	crit := 0
	for _, n := range s.Nodes {
		if got := n.Verdict.Primary; got != want[filepath.Base(n.Source)] {
			t.Errorf("%s: primary %q, its expected report says %q", n.Source, got, want[filepath.Base(n.Source)])
		}
		if n.Worst() == content.Critical {
			crit++
		}
	}
	if crit != critical {
		t.Errorf("%d nodes with a critical finding, want %d", crit, critical)
	}
	// Problems first: every node with a problem before every node without.
	for i := 1; i < len(s.Nodes); i++ {
		if s.Nodes[i].Verdict.Problem && !s.Nodes[i-1].Verdict.Problem {
			t.Errorf("node %s with a problem listed after %s without", s.Nodes[i].Source, s.Nodes[i-1].Source)
		}
	}
	primaries := map[string]int{}
	for _, p := range want {
		if p != "" {
			primaries[p]++
		}
	}
	for _, f := range s.Findings {
		if f.Primary != primaries[f.ID] {
			t.Errorf("finding %s is the verdict's cause on %d nodes, want %d", f.ID, f.Primary, primaries[f.ID])
		}
	}
	// Markdown and HTML render the same summary.
	var md, html, errb bytes.Buffer
	if code := run([]string{"fleet", "-q", dir}, &md, &errb); code != exitOK || !strings.Contains(md.String(), "## Unreadable") || !strings.Contains(md.String(), "truncated.tar.zst") {
		t.Errorf("markdown: exit %d\n%s%s", code, md.String(), errb.String())
	}
	if code := run([]string{"fleet", "-q", "--format", "html", dir}, &html, &errb); code != exitOK || !strings.Contains(html.String(), "<table>") {
		t.Errorf("html: exit %d", code)
	}
}

// Nothing readable: exit 2, and the summary still says why.
func TestFleetNothingReadable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.tar.zst"), []byte("not a bundle"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.json"), []byte(`{"schema": "something/else"}`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"fleet", "-q", "--format", "json", dir}, &out, &errb); code != exitBadInput {
		t.Errorf("exit %d, want 2", code)
	}
	var s content.Fleet
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || len(s.Unreadable) != 2 {
		t.Errorf("unreadable %+v (%v), want both inputs", s.Unreadable, err)
	}
	if code := run([]string{"fleet", filepath.Join(dir, "missing")}, &out, &errb); code != exitBadInput {
		t.Errorf("a missing path: exit %d, want 2", code)
	}
}

// One capture given three ways — a bundle, a copy of it under another
// name, and its JSON report beside it — counts once: the first input, the
// others listed as copies of it; another capture stays a node of its own.
func TestFleetCountsEachCaptureOnce(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(samplesDir, "fsync-storm.tar.zst"), "a-fsync-storm.tar.zst")
	copyFile(filepath.Join(samplesDir, "fsync-storm.tar.zst"), "b-copy.tar.zst")
	copyFile(filepath.Join(samplesDir, "fsync-storm.json"), "c-fsync-storm.json")
	copyFile(filepath.Join(samplesDir, "idle.tar.zst"), "d-idle.tar.zst")
	s := fleetJSON(t, dir)
	if len(s.Nodes) != 2 {
		t.Errorf("%d nodes, want the two captures", len(s.Nodes))
	}
	if len(s.Duplicates) != 2 {
		t.Fatalf("duplicates %+v, want the copy and the JSON report", s.Duplicates)
	}
	for _, d := range s.Duplicates {
		if filepath.Base(d.SameAs) != "a-fsync-storm.tar.zst" {
			t.Errorf("%s counted as a copy of %s, want of the first input", d.Source, d.SameAs)
		}
	}
}
