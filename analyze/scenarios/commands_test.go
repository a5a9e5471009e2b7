package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/analyze/replay"
	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/samples/workload"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// The commands on captures taken live here, through the real iorca
// binary: report (Markdown, JSON, HTML) of three incidents, every replay
// view on a full and an interrupted capture, and a fleet of labelled
// nodes. (They were in analyze/cmd/iorca, whose unit-test binary then
// linked the collector.)

// fleetJSON runs iorca fleet with args and decodes its JSON.
func fleetJSON(t *testing.T, args ...string) *content.Fleet {
	t.Helper()
	return reporttest.Fleet(t, reporttest.Iorca, args...)
}

// Acceptance 1 of issue 4, scenario 1: tiny O_SYNC appends to a file in an
// overlayfs mount.
func TestReportOverlaySyncAppender(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	logFile, upper := workload.OverlayAccessLog(t, 128)
	// As fast as O_SYNC allows, as the real incident: the writer must
	// dominate the node even with go test's own IO around it.
	w := workload.StartWriter(t, "--file", logFile, "--size", "58", "--sync", "osync")
	path := livetest.Capture(t, livetest.Config(t, 6*time.Second), 0)
	r, md := reporttest.Analyze(t, path)
	if _, again := reporttest.Analyze(t, path); again != md {
		t.Error("two reports of the same bundle differ")
	}
	checkRendersCleanly(t, md)
	var page, errb bytes.Buffer
	if code := reporttest.Iorca([]string{"report", path, "--format", "html"}, &page, &errb); code != 0 ||
		!strings.HasPrefix(page.String(), "<!DOCTYPE html>") || !strings.Contains(page.String(), "<table>") || !strings.Contains(page.String(), "<h2>Verdict</h2>") {
		t.Errorf("--format html: exit %d, %.200s", code, page.String())
	}

	// Whether the writer also moves most of the node's disk bytes
	// (dominant-io-process) depends on what else the machine does — a
	// browser test of another package, a build — not on the scenario.
	if !reporttest.CheckFindings(t, r, []string{"small-writes", "sync-writes", "write-amplification", "overlay-hot-path"}, nil) {
		t.Logf("report:\n%s", md)
	}
	if c := r.Verdict.Culprit; c == nil || c.PID != w.Process.Pid {
		t.Errorf("culprit %+v, want PID %d", c, w.Process.Pid)
	}
	// Each of the three names the writer's file; other processes' (a
	// browser test of another package fsyncs its profile) are theirs.
	for _, id := range []string{"small-writes", "sync-writes", "overlay-hot-path"} {
		named := false
		for _, f := range findingsAbout(r, id, w.Process.Pid) {
			named = named || f.Subjects.Path == logFile
		}
		if !named {
			t.Errorf("no %s finding about PID %d names %s", id, w.Process.Pid, logFile)
		}
	}
	for _, want := range []string{"## Verdict", "Evidence chain", "## Findings", "Mitigations", "Monitoring and alert rules", "## Appendix", upper, "O\\_SYNC"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// findingsAbout are the report's findings of rule id whose subjects
// include pid.
func findingsAbout(r reporttest.Report, id string, pid int) []reporttest.Finding {
	var out []reporttest.Finding
	for _, f := range r.Findings {
		if f.ID == id && slices.Contains(f.Subjects.PIDs, pid) {
			out = append(out, f)
		}
	}
	return out
}

// checkRendersCleanly renders the Markdown with goldmark (GitHub
// flavoured) and checks that every table became a table and that no row
// leaked out as text.
func checkRendersCleanly(t *testing.T, md string) {
	t.Helper()
	var html bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert([]byte(md), &html); err != nil {
		t.Fatal(err)
	}
	tables := strings.Count(md, "\n|---") + strings.Count(md, "\n| ---")
	if got := strings.Count(html.String(), "<table>"); got != tables || tables == 0 {
		t.Errorf("%d Markdown tables rendered as %d HTML tables", tables, got)
	}
	for _, l := range strings.Split(html.String(), "\n") {
		if strings.HasPrefix(l, "<p>|") {
			t.Errorf("a table row rendered as a paragraph: %s", l)
		}
	}
	if strings.Contains(html.String(), "<script") {
		t.Error("raw HTML passed through")
	}
}

// Scenario 2: one process writing 1 MiB buffered blocks at 32 MiB/s to a
// device that stays idle (the pages wait in the page cache): the loudest
// process, with no small or sync writes, and no IO problem yet — the
// finding is info and says when writeback will come.
func TestReportBufferedBulkWriter(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	mnt, _ := workload.LoopExt4(t, 512)
	w := workload.StartWriter(t, "--file", filepath.Join(mnt, "backup.img"), "--size", "1048576", "--sync", "none", "--rate", "32", "--max-bytes", "256MiB")
	r, md := reporttest.Analyze(t, livetest.Capture(t, livetest.Config(t, 6*time.Second), 0))
	// The writer's findings only: other processes of the machine (a
	// browser test of another package fsyncs its profile) may have theirs.
	ok := true
	for _, id := range []string{"small-writes", "sync-writes"} {
		if fs := findingsAbout(r, id, w.Process.Pid); len(fs) > 0 {
			t.Errorf("%s about the buffered writer %d: %s", id, w.Process.Pid, fs[0].Title)
			ok = false
		}
	}
	if fs := findingsAbout(r, "dominant-io-process", w.Process.Pid); len(fs) == 0 || fs[0].Severity != "info" {
		t.Errorf("dominant-io-process about the writer %d: %+v, want one at info", w.Process.Pid, fs)
		ok = false
	}
	if c := r.Verdict.Culprit; c != nil && c.PID == w.Process.Pid {
		t.Errorf("a buffered writer on an idle device is the culprit: %s", r.Verdict.Summary)
		ok = false
	}
	if !strings.Contains(md, "pages it dirtied") {
		t.Error("the report does not say that write_bytes counts pages dirtied")
		ok = false
	}
	if !ok {
		t.Logf("report:\n%s", md)
	}
}

// Scenario 3: a healthy node. A light buffered writer (4 KiB lines, ten
// a second) on a device of its own is not a problem: no warning or
// critical finding names it or its device. What else the machine does
// meanwhile (go test building other packages) is not this test's; the
// committed idle sample checks the "No IO problem found" verdict of a
// quiet node to the byte.
func TestReportHealthyNode(t *testing.T) {
	workload.Live(t)
	mnt, dev := workload.LoopExt4(t, 64)
	w := workload.StartWriter(t, "--file", filepath.Join(mnt, "app.log"), "--size", "4096", "--sync", "none", "--rate", "10")
	r, md := reporttest.Analyze(t, livetest.Capture(t, livetest.Config(t, 4*time.Second), 0))
	name := filepath.Base(dev)
	for _, f := range r.Findings {
		if f.Severity == "info" {
			continue
		}
		for _, pid := range f.Subjects.PIDs {
			if pid == w.Process.Pid {
				t.Errorf("a light writer is blamed: %s %s", f.Severity, f.ID)
			}
		}
		if f.Subjects.Device == name {
			t.Errorf("a light writer's device is blamed: %s %s", f.Severity, f.ID)
		}
	}
	if c := r.Verdict.Culprit; c != nil && c.PID == w.Process.Pid {
		t.Errorf("verdict blames the light writer: %+v", r.Verdict)
	}
	if !r.Verdict.Problem && (!strings.HasPrefix(r.Verdict.Summary, "No IO problem") || !strings.Contains(md, "None needed")) {
		t.Errorf("healthy report:\n%s", md)
	}
}

// TestReplayEveryViewLive is acceptance 3 of issue 3: every view runs on
// a bundle the collector captured here, and on a partial one (collection
// interrupted); --at outside the span is a clear error giving the span.
func TestReplayEveryViewLive(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "strace")
	logFile, _ := workload.OverlayAccessLog(t, 64)
	w := workload.StartWriter(t, "--file", logFile, "--size", "60", "--sync", "osync", "--rate", "300")
	pid := strconv.Itoa(w.Process.Pid)

	full := livetest.Capture(t, livetest.Config(t, 4*time.Second), 0)
	partial := livetest.Capture(t, livetest.Config(t, 30*time.Second), 3500*time.Millisecond)
	if m := livetest.Load(t, partial); !m.Manifest.Partial {
		t.Fatal("the interrupted bundle is not marked partial")
	}
	for _, path := range []string{full, partial} {
		for _, v := range replay.Views {
			args := []string{"replay", path, v.Name}
			if v.Name == "pidio" {
				args = append(args, pid)
			}
			if v.Name == "findmnt" {
				args = append(args, "--target", logFile, "--pid", pid)
			}
			for _, format := range []string{"text", "json"} {
				var out, errb bytes.Buffer
				code := reporttest.Iorca(append(args, "--format", format), &out, &errb)
				if code != 0 || out.Len() == 0 {
					t.Errorf("%s %s (%s): exit %d, stderr %q", filepath.Base(path), v.Name, format, code, errb.String())
					continue
				}
				if format == "json" && !json.Valid(out.Bytes()) {
					t.Errorf("%s %s: invalid JSON", filepath.Base(path), v.Name)
				}
			}
		}
	}
	// Spot checks: the writer is in iotop and pidio; findmnt sees the overlay.
	var out, errb bytes.Buffer
	reporttest.Iorca([]string{"replay", full, "iotop", "--summary"}, &out, &errb)
	if !strings.Contains(out.String(), pid+" ") {
		t.Errorf("iotop --summary does not list the writer %s:\n%s", pid, out.String())
	}
	out.Reset()
	reporttest.Iorca([]string{"replay", full, "findmnt", "--target", logFile, "--pid", pid}, &out, &errb)
	if !strings.Contains(out.String(), "overlayfs layers") || !strings.Contains(out.String(), "upper") {
		t.Errorf("findmnt -T does not show the overlay:\n%s", out.String())
	}
	out.Reset()
	reporttest.Iorca([]string{"replay", full, "strace", "--pid", pid}, &out, &errb)
	if !strings.Contains(out.String(), logFile) {
		t.Errorf("strace summary does not name %s:\n%s", logFile, out.String())
	}

	out.Reset()
	errb.Reset()
	code := reporttest.Iorca([]string{"replay", full, "iostat", "--at", "+1h"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "outside the capture, which spans") {
		t.Errorf("--at outside: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	code = reporttest.Iorca([]string{"replay", full, "iostat", "--tick", "99"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "ticks 0-") {
		t.Errorf("--tick outside: exit %d, %q", code, errb.String())
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
	if code := reporttest.Iorca([]string{"report", "--format", "json", "-o", filepath.Join(reports, "node-d.json"), d}, &bytes.Buffer{}, &errb); code != 0 {
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
		reporttest.Iorca([]string{"fleet", "-q", "--by", "zone", dir, reports}, &md, &errb)
		t.Logf("fleet:\n%s", md.String())
	}
}
