package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/samples/workload"
)

// fleetJSON runs iorca fleet with args and decodes its JSON.
func fleetJSON(t *testing.T, args ...string) *content.Fleet {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"fleet", "--format", "json", "-q"}, args...), &out, &errb); code != exitOK {
		t.Fatalf("iorca fleet %v: exit %d: %s", args, code, errb.String())
	}
	var s content.Fleet
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("fleet JSON: %v", err)
	}
	return &s
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

// Issue 14: a fleet of real captures of two incidents, with labels. A
// logger makes small synchronous writes to a slow disk (nbdkit, 8 ms a
// write) and is captured twice, as two nodes of zone eu-1a; once it is
// stopped, a bulk exporter streams buffered writes to the same slow disk,
// captured as a node of zone eu-1b; once that is stopped too, a quiet
// node of eu-1b is captured and brought as a JSON report made elsewhere;
// a fifth input is a truncated copy of the first bundle. The fleet reads
// four nodes and one unreadable input, finds the logger on both eu-1a
// nodes and the exporter on the third, and puts eu-1a first by zone.
func TestFleetOfLabelledNodes(t *testing.T) {
	dev := workload.SlowDisk(t, 512, "delay", "wdelay=8ms")
	mnt := workload.Ext4On(t, dev)
	logger := workload.StartProgram(t, "access-logger", "--file", filepath.Join(mnt, "access.log"), "--size", "200", "--sync", "odsync", "--max-bytes", "64MiB")
	dir, reports := t.TempDir(), t.TempDir()
	capture := func(node, zone, pool string) string {
		cfg := livetest.Config(t, 4*time.Second)
		cfg.Node, cfg.Labels = node, map[string]string{"zone": zone, "pool": pool}
		cfg.Output = filepath.Join(t.TempDir(), node+".tar.zst")
		return livetest.Capture(t, cfg, 0)
	}
	copyTo := func(src, dst string) []byte {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, data, 0o644)
		return data
	}
	a := copyTo(capture("node-a", "eu-1a", "logging"), filepath.Join(dir, "node-a.tar.zst"))
	copyTo(capture("node-b", "eu-1a", "logging"), filepath.Join(dir, "node-b.tar.zst"))
	logger.Process.Kill()
	logger.Wait()
	workload.LimitDirty(t, dev, 16<<20)
	exporter := workload.StartProgram(t, "bulk-export", "--file", filepath.Join(mnt, "export.bin"), "--size", "1048576", "--sync", "none", "--rate", "40", "--max-bytes", "400MiB")
	time.Sleep(time.Second)
	copyTo(capture("node-c", "eu-1b", "batch"), filepath.Join(dir, "node-c.tar.zst"))
	exporter.Process.Kill()
	exporter.Wait()
	exec.Command("sync", "-f", mnt).Run()
	d := capture("node-d", "eu-1b", "db")
	var errb bytes.Buffer
	if code := run([]string{"report", "--format", "json", "-o", filepath.Join(reports, "node-d.json"), d}, &bytes.Buffer{}, &errb); code != exitOK {
		t.Fatalf("report of node-d: %s", errb.String())
	}
	os.WriteFile(filepath.Join(dir, "corrupt.tar.zst"), a[:len(a)*2/3], 0o644)

	s := fleetJSON(t, "--by", "zone", dir, reports)
	ok := true
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		ok = false
	}
	if len(s.Nodes) != 4 || len(s.Unreadable) != 1 {
		fail("%d nodes and %d unreadable, want 4 and 1 (%+v)", len(s.Nodes), len(s.Unreadable), s.Unreadable)
	}
	names := map[string]*content.FleetNode{}
	for _, n := range s.Nodes {
		names[n.Key()] = n
	}
	for _, n := range []string{"node-a", "node-b"} {
		nd := names[n]
		if nd == nil || !nd.Verdict.Problem || nd.Verdict.Primary != "sync-writes" || nd.Verdict.Culprit == nil || nd.Verdict.Culprit.Comm != "access-logger" || nd.Labels["zone"] != "eu-1a" {
			fail("%s: %+v; want sync-writes by the logger, zone eu-1a", n, nd)
		}
	}
	if nc := names["node-c"]; nc == nil || !nc.Verdict.Problem || nc.Verdict.Primary == "sync-writes" || nc.Verdict.Culprit == nil || nc.Verdict.Culprit.Comm != "bulk-export" || nc.Labels["pool"] != "batch" {
		fail("node-c: %+v; want the exporter as culprit of another cause, pool batch", nc)
	}
	if nd := names["node-d"]; nd == nil || nd.Verdict.Problem || nd.Labels["pool"] != "db" || !strings.HasSuffix(nd.Source, ".json") {
		fail("node-d: %+v; want the quiet node, pool db, read from its JSON report", nd)
	}
	if s.Problems != 3 {
		fail("%d nodes with a problem, want 3", s.Problems)
	}
	found := false
	for _, r := range s.Recurring {
		if r.Kind == "program" && r.Name == "access-logger" && strings.Join(r.Nodes, ",") == "node-a,node-b" {
			found = true
		}
		if r.Name == "bulk-export" {
			fail("the exporter, on one node, is listed as recurring: %+v", r)
		}
	}
	if !found {
		fail("the logger does not recur on node-a and node-b: %+v", s.Recurring)
	}
	if s.By == nil || len(s.By.Groups) != 2 || s.By.Groups[0].Value != "eu-1a" || s.By.Groups[0].Problems != 2 || s.By.Groups[1].Value != "eu-1b" || s.By.Groups[1].Problems != 1 || s.By.Groups[1].Nodes != 2 {
		fail("by zone %+v, want eu-1a (2 of 2 with a problem) before eu-1b (1 of 2)", s.By)
	}
	sync := false
	for _, f := range s.Findings {
		if f.ID == "sync-writes" {
			sync = f.Nodes == 2 && f.Primary == 2
		}
	}
	if !sync {
		fail("sync-writes is not the cause on both eu-1a nodes: %+v", s.Findings)
	}
	if len(s.Mitigation) == 0 || len(s.Mitigation[0].Fixes) != 2 || !strings.Contains(strings.Join(s.Mitigation[0].Findings, ","), "sync-writes") {
		fail("the first mitigation %+v does not fix both eu-1a nodes' cause", s.Mitigation)
	}
	if !ok || testing.Verbose() {
		var md bytes.Buffer
		run([]string{"fleet", "-q", "--by", "zone", dir, reports}, &md, &errb)
		t.Logf("fleet:\n%s", md.String())
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
