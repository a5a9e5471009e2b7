package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/golden"
)

const samplesDir = "../../../samples"

// TestSamplesRegress re-analyses every sample bundle and compares it with
// its expected reports: iorca regress as go test runs it. With -update
// (or IORCA_UPDATE=1, golden.Update) it rewrites them instead.
func TestSamplesRegress(t *testing.T) {
	bundles, _ := filepath.Glob(filepath.Join(samplesDir, "*.tar.zst"))
	if len(bundles) == 0 {
		t.Fatalf("no sample bundle in %s", samplesDir)
	}
	args := []string{"regress", samplesDir, "--exact", "--color", "never"}
	if golden.Update(t) {
		args = append(args, "--update")
	}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != exitOK {
		t.Fatalf("iorca regress: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if want := fmt.Sprintf("%d passed, 0 failed", len(bundles)); !strings.Contains(out.String(), want) {
		t.Errorf("summary %q, want %q", out.String(), want)
	}
	if golden.Update(t) {
		t.Logf("expected reports rewritten:\n%s", out.String())
	}
}

// sampleVerdicts is what each sample's expected report must say (issue 5):
// checked on the JSON, not only through the golden files.
var sampleVerdicts = map[string]struct {
	present, absent []string
	container       string
	problem         bool
	check           func(t *testing.T, r map[string]any)
}{
	"nginx-logger-stdout": {present: []string{"container-log-flood", "dominant-io-process"}, container: "nginx-logger-12", problem: true,
		check: func(t *testing.T, r map[string]any) {
			if c := culprit(r); c["comm"] != "containerd-shim" || !strings.Contains(c["cmdline"].(string), "-id nginx-logger-12") {
				t.Errorf("culprit %v is not the shim of nginx-logger-12", c)
			}
		}},
	// The same logger with /var/log/nginx on a tmpfs volume: a sync there
	// waits for no device and a small write amplifies nothing; what is
	// left is the CPU of 800,000 calls a second, nothing throttling them.
	"overlay-sync-logger-tmpfs": {present: []string{"cpu-cost", "tmpfs-filling"}, absent: []string{"sync-writes", "small-writes", "overlay-hot-path", "write-amplification"}, container: "web-7", problem: true,
		check: func(t *testing.T, r map[string]any) {
			// The critical filling leads; the syscalls that fill it are
			// a warning beside it.
			if v := r["verdict"].(map[string]any); v["primary_finding"] != "tmpfs-filling" {
				t.Errorf("primary %v, want tmpfs-filling", v["primary_finding"])
			}
			// The mitigation's own danger: the log fills the container's
			// tmpfs (memory) within minutes, read through its root.
			if f := finding(r, "tmpfs-filling"); f["severity"] != "critical" || !strings.Contains(f["title"].(string), "/var/log/nginx (tmpfs, memory)") {
				t.Errorf("tmpfs-filling: %v %v", f["severity"], f["title"])
			}
			md, _ := os.ReadFile(filepath.Join(samplesDir, "overlay-sync-logger-tmpfs.md"))
			if _, verdict, _ := strings.Cut(string(md), "## Verdict\n\n"); !strings.Contains(strings.SplitN(verdict, "\n", 2)[0], "fills /var/log/nginx") {
				t.Errorf("the short verdict does not say the tmpfs fills: %.300s", verdict)
			}
		}},
	"overlay-sync-logger": {present: []string{"small-writes", "sync-writes", "write-amplification", "overlay-hot-path"}, container: "web-7", problem: true,
		check: func(t *testing.T, r map[string]any) {
			f := finding(r, "overlay-hot-path")
			if !strings.Contains(f["summary"].(string), "/layers/upper") || f["subjects"].(map[string]any)["path"] != "/var/log/nginx/access.log" {
				t.Errorf("overlay-hot-path does not name the upperdir and the file: %v", f["summary"])
			}
		}},
	"fsync-storm": {present: []string{"sync-writes", "small-writes", "write-amplification"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			if f := finding(r, "sync-writes"); !strings.Contains(f["title"].(string), "syncs") {
				t.Errorf("sync-writes should be proven by fsync-after-write: %v", f["title"])
			}
			// loop0 is a loop device over a file on vda: its flushes are
			// fsyncs of that file, and vda takes them too.
			if b, _ := json.Marshal(finding(r, "sync-writes")); !strings.Contains(string(b), "is an fsync of that file, and vda beneath it flushed") {
				t.Errorf("sync-writes does not say where loop0's flushes go: %s", b)
			}
		}},
	"xfs-sync-logger": {present: []string{"sync-writes", "small-writes", "write-amplification", "device-saturated", "io-victims"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			if c := culprit(r); c["comm"] != "access-logger" {
				t.Errorf("culprit %v, want the access logger", c)
			}
			// XFS's words, never ext4's: the log forces its O_SYNC appends
			// make, and an external log as the filesystem's own remedy.
			b, _ := json.Marshal(r)
			for _, w := range []string{"jbd2", "ext4", "commit="} {
				if strings.Contains(string(b), w) {
					t.Errorf("the report on XFS names %q", w)
				}
			}
			if ev, _ := json.Marshal(finding(r, "sync-writes")); !strings.Contains(string(ev), "forces the XFS log") || !strings.Contains(string(ev), "logdev=") {
				t.Errorf("sync-writes does not name the XFS log's forces and remedy: %s", ev)
			}
		}},
	"copytruncate-rotation": {present: []string{"log-rotation", "device-saturated"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			if c := culprit(r); c["comm"] != "logrotate" || v["primary_finding"] != "log-rotation" {
				t.Errorf("culprit %v, primary %v: want the rotation's copy", c, v["primary_finding"])
			}
			// Recognised by what it does: reading the live log, writing its
			// .1 copy, while the service appends to it.
			f := finding(r, "log-rotation")
			if s := f["summary"].(string); !strings.Contains(s, "app.log.1") || !strings.Contains(s, "app-server) holds it open for appending") {
				t.Errorf("log-rotation does not show the copy of a live log: %s", s)
			}
			if m, _ := json.Marshal(f["mitigations"]); !strings.Contains(string(m), "rename and reopen") || !strings.Contains(string(m), "delaycompress") || !strings.Contains(string(m), "ionice -c3") {
				t.Errorf("log-rotation's remedies: %s", m)
			}
		}},
	"bulk-writer": {present: []string{"dominant-io-process"}, absent: []string{"small-writes", "sync-writes"},
		check: func(t *testing.T, r map[string]any) {
			// 24 MiB/s into the page cache while its device stays idle: no
			// IO problem yet, and the report says when writeback comes.
			f := finding(r, "dominant-io-process")
			if f["severity"] != "info" || !strings.Contains(f["summary"].(string), "pages it dirtied") || !strings.Contains(f["summary"].(string), "background threshold") {
				t.Errorf("a buffered writer on an idle device: %v %v", f["severity"], f["summary"])
			}
		}},
	"throttled-cgroup": {present: []string{"cgroup-throttle"}, absent: []string{"device-saturated"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			if v["primary_finding"] != "cgroup-throttle" || !strings.Contains(v["summary"].(string), "/iorca-throttled") {
				t.Errorf("verdict does not blame the throttle: %v", v)
			}
		}},
	"idle": {absent: []string{"device-saturated", "dominant-io-process", "small-writes", "sync-writes"},
		check: func(t *testing.T, r map[string]any) {
			// Quiet now, with IO pressure in the minutes before (PSI avg300
			// 7.8 at the start), and a process whose counters were denied: the
			// advice to collect again leads, so the short verdict keeps it.
			v := r["verdict"].(map[string]any)
			if s := v["summary"].(string); !strings.HasPrefix(s, "No IO problem during the capture, but some task waited") || !strings.Contains(s, "collect again while it happens") || !strings.Contains(s, "could not be read") || v["confidence"] != "medium" {
				t.Errorf("a quiet capture after pressure is called healthy: %v", v)
			}
		}},
	"overlay-slow-disk": {present: []string{"device-saturated", "sync-writes", "small-writes", "overlay-hot-path", "io-victims", "write-amplification"}, container: "web-7", problem: true,
		check: func(t *testing.T, r map[string]any) {
			if c := culprit(r); c["comm"] != "access-logger" {
				t.Errorf("culprit %v, want the access logger", c)
			}
			// The device's time is the logger's, at a few dozen writes a second.
			if f := finding(r, "device-saturated"); !strings.Contains(f["summary"].(string), "access-logger) in container web-7 holds") {
				t.Errorf("device-saturated does not name who holds the device: %v", f["summary"])
			}
			if f := finding(r, "io-victims"); !strings.Contains(f["summary"].(string), "db-walwriter") {
				t.Errorf("io-victims does not name the database: %v", f["summary"])
			}
			// Several device requests per 58-byte record: data, journal,
			// cache flushes (block trace), not a page per write.
			if v := r["verdict"].(map[string]any)["summary"].(string); !strings.Contains(v, "Each write costs the device") {
				t.Errorf("the verdict does not count the device's work per record: %s", v)
			}
			if v := r["verdict"].(map[string]any)["summary"].(string); !strings.Contains(v, "Waiting for") || !strings.Contains(v, "of its time") {
				t.Errorf("the verdict names neither the share nor the victim: %s", v)
			}
		}},
	"swap-cgroup-limit": {present: []string{"swap-io"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			c := culprit(r)
			if v["primary_finding"] != "swap-io" || c == nil || c["kind"] != "limit" || c["comm"] != "cache-server" {
				t.Errorf("primary %v, culprit %v: want the memory limit holding cache-server", v["primary_finding"], c)
			}
			f := finding(r, "swap-io")
			if s := f["summary"].(string); !strings.Contains(s, "iorca-cache is at its limit") || !strings.Contains(s, "it is the limit, not the node") {
				t.Errorf("swap-io does not name the cgroup at its limit on a node with room: %s", s)
			}
			ms, _ := json.Marshal(f["mitigations"])
			if !strings.Contains(string(ms), "Raise the memory limit") || strings.Contains(string(ms), "Bound memory") {
				t.Errorf("swap-io mitigations: %s", ms)
			}
			if d := finding(r, "dominant-io-process"); d["severity"] != nil && d["severity"] != "info" {
				t.Errorf("the swap-ins make a %v dominant-io-process, want info", d["severity"])
			}
		}},
	"dirty-throttled": {present: []string{"dirty-throttling", "device-saturated"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			if c := culprit(r); c == nil || c["comm"] != "bulk-export" {
				t.Errorf("culprit %v, want bulk-export", c)
			}
			// The device's time is the writer's, through writeback; no
			// one else waited for it, so the saturation is the device
			// pacing its own load (info), not a critical of its own.
			if f := finding(r, "device-saturated"); !strings.Contains(f["summary"].(string), "bulk-export) holds") || f["severity"] != "info" || !strings.Contains(f["summary"].(string), "Self-inflicted") {
				t.Errorf("device-saturated does not name the writer as its only load: %v", f)
			}
			if f := finding(r, "dirty-throttling"); !strings.Contains(f["summary"].(string), "balance_dirty_pages") {
				t.Errorf("dirty-throttling does not say where the writer was paused: %v", f["summary"])
			}
		}},
	"file-by-file-fsync": {present: []string{"file-by-file-sync"}, absent: []string{"sync-writes"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			if c := culprit(r); v["primary_finding"] != "file-by-file-sync" || c == nil || c["comm"] != "unpacker" {
				t.Errorf("primary %v, culprit %v: want the unpacker's file-by-file-sync", v["primary_finding"], c)
			}
			n := 0
			for _, f := range r["findings"].([]any) {
				if f.(map[string]any)["id"] == "file-by-file-sync" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d file-by-file-sync findings, want one for the pattern", n)
			}
		}},
	"metadata-scan": {present: []string{"metadata-scan", "io-victims"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			if c := culprit(r); v["primary_finding"] != "metadata-scan" || c == nil || c["comm"] != "find" {
				t.Errorf("primary %v, culprit %v: want find's metadata-scan", v["primary_finding"], c)
			}
			if f := finding(r, "io-victims"); !strings.Contains(f["title"].(string), "lookup") {
				t.Errorf("io-victims does not name the lookup service: %v", f["title"])
			}
		}},
	"mmap-msync": {present: []string{"mmap-msync"}, absent: []string{"sync-writes"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			if c := culprit(r); v["primary_finding"] != "mmap-msync" || c == nil || c["comm"] != "mapped-journal" {
				t.Errorf("primary %v, culprit %v: want mmap-msync and mapped-journal", v["primary_finding"], c)
			}
			if f := finding(r, "mmap-msync"); !strings.HasSuffix(f["subjects"].(map[string]any)["path"].(string), "/journal.dat") {
				t.Errorf("mmap-msync does not name the mapped journal: %v", f["subjects"])
			}
		}},
	"sync-caller": {present: []string{"sync-caller"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			if c := culprit(r); v["primary_finding"] != "sync-caller" || c == nil || c["comm"] != "snapshot-agent" {
				t.Errorf("primary %v, culprit %v: want sync-caller and the snapshot agent", v["primary_finding"], c)
			}
			if f := finding(r, "sync-caller"); !strings.Contains(f["summary"].(string), "(ingest)'s") {
				t.Errorf("sync-caller does not say whose pages it forced out: %v", f["summary"])
			}
		}},
	"failing-disk": {present: []string{"kernel-io-errors", "dominant-io-process"}, problem: true,
		check: func(t *testing.T, r map[string]any) {
			v := r["verdict"].(map[string]any)
			c := culprit(r)
			if v["primary_finding"] != "kernel-io-errors" || c == nil || c["kind"] != "device" || c["device"] != "loop0" {
				t.Errorf("primary %v, culprit %v: want the failing device loop0", v["primary_finding"], c)
			}
			if f := finding(r, "kernel-io-errors"); f["severity"] != "critical" {
				t.Errorf("kernel-io-errors is %v, want critical", f["severity"])
			}
			// What the service met: its traced writes failing.
			if ev, _ := json.Marshal(finding(r, "kernel-io-errors")["evidence"]); !strings.Contains(string(ev), "order-service)'s writes to") || !strings.Contains(string(ev), "EROFS") {
				t.Errorf("kernel-io-errors does not show the service's failed writes: %s", ev)
			}
			if s := v["summary"].(string); !strings.Contains(s, "/srv/iorca-sample/failing-disk/orders is mounted read-only") || !strings.Contains(s, "journal on it aborted") {
				t.Errorf("the verdict does not say the journal aborted and the filesystem is read-only: %s", s)
			}
			// The backup on the healthy disk is loud, and not the cause.
			if f := finding(r, "dominant-io-process"); f["severity"] != "info" {
				t.Errorf("the backup is %v, want info", f["severity"])
			}
		}},
}

func culprit(r map[string]any) map[string]any {
	c, _ := r["verdict"].(map[string]any)["culprit"].(map[string]any)
	return c
}

func finding(r map[string]any, id string) map[string]any {
	for _, f := range r["findings"].([]any) {
		if f.(map[string]any)["id"] == id {
			return f.(map[string]any)
		}
	}
	return map[string]any{"summary": "", "title": "", "subjects": map[string]any{}}
}

func TestSampleVerdicts(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) != len(sampleVerdicts) {
		t.Errorf("%d expected JSON reports, want %d", len(files), len(sampleVerdicts))
	}
	for name, want := range sampleVerdicts {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(samplesDir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var r map[string]any
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if r["schema"] != "iorca.report/v1" {
				t.Errorf("schema %v", r["schema"])
			}
			v := r["verdict"].(map[string]any)
			if v["problem"] != want.problem {
				t.Errorf("problem = %v", v["problem"])
			}
			if !want.problem {
				if !strings.HasPrefix(v["summary"].(string), "No IO problem") || v["culprit"] != nil {
					t.Errorf("verdict %v", v)
				}
				for _, f := range r["findings"].([]any) {
					if s := f.(map[string]any)["severity"]; s != "info" {
						t.Errorf("idle sample has a %v finding", s)
					}
				}
			}
			got := map[string]bool{}
			for _, f := range r["findings"].([]any) {
				got[f.(map[string]any)["id"].(string)] = true
			}
			for _, id := range want.present {
				if !got[id] {
					t.Errorf("missing finding %s (have %v)", id, got)
				}
			}
			for _, id := range want.absent {
				if got[id] {
					t.Errorf("finding %s must be absent", id)
				}
			}
			if want.container != "" {
				if c := culprit(r); c == nil || c["container"] != want.container {
					t.Errorf("culprit %v, want container %s", c, want.container)
				}
			}
			if want.check != nil {
				want.check(t, r)
			}
			if b, err := os.Stat(filepath.Join(samplesDir, name+".tar.zst")); err != nil || b.Size() > 2<<20 {
				t.Errorf("bundle %v: must exist and be under 2 MiB", err)
			}
		})
	}
}

// Acceptance 3 of issue 5: a deliberate change to a rule threshold that
// removes a finding makes regress fail with a readable diff. One sample
// (the one whose small-writes finding the threshold removes) keeps the
// test cheap: each regress run re-analyses every bundle of its directory.
func TestRegressFailsOnThresholdChange(t *testing.T) {
	dir := t.TempDir()
	copyCorpusSample(t, dir, "overlay-sync-logger", "overlay-sync-logger")
	raise := []string{"--threshold", "small_write_min_per_sec=1000000"}
	var out, errb bytes.Buffer
	// By meaning: the finding that went is named.
	if code := run(append([]string{"regress", dir}, raise...), &out, &errb); code != exitFailure ||
		!strings.Contains(out.String(), "FAIL overlay-sync-logger: the report means something else now") || !strings.Contains(out.String(), "finding warning small-writes: 1 -> 0") {
		t.Errorf("by meaning: exit %d\n%s", code, out.String())
	}
	out.Reset()
	code := run(append([]string{"regress", dir, "--exact", "--color", "never"}, raise...), &out, &errb)
	s := out.String()
	if code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s", code, s)
	}
	for _, want := range []string{"FAIL overlay-sync-logger: overlay-sync-logger.md drifted", "--- overlay-sync-logger.md (expected)", "+++ overlay-sync-logger.md (now)", "@@ -", "\n-### ", "small-writes", "0 passed, 1 failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The finding itself disappears from the expected report, in a
	// readable line of the diff.
	if !strings.Contains(s, "-### 1. [warning] `small-writes`") && !strings.Contains(s, "`small-writes` — PID") {
		t.Errorf("the diff does not show the small-writes finding going:\n%.3000s", s)
	}
	// With the expected reports updated under the changed threshold, it
	// passes: --update rewrites exactly what drifted.
	out.Reset()
	if code := run(append([]string{"regress", dir, "--update"}, raise...), &out, &errb); code != exitOK || !strings.Contains(out.String(), "updated overlay-sync-logger.md") {
		t.Errorf("--update: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(append([]string{"regress", dir, "--exact"}, raise...), &out, &errb); code != exitOK {
		t.Errorf("after --update: exit %d\n%s", code, out.String())
	}
}

// copyCorpusSample copies sample name's bundle and expected reports into dir
// as as.tar.zst, as.md and as.json.
func copyCorpusSample(t *testing.T, dir, name, as string) {
	t.Helper()
	for _, ext := range []string{".tar.zst", ".md", ".json"} {
		data, err := os.ReadFile(filepath.Join(samplesDir, name+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, as+ext), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The JSON "limits" carry every item of the Markdown "What the collector
// could not see": a bound hit or a skipped target reaches a consumer of
// either format. Markdown puts member names in backticks and escapes
// punctuation in data (a kworker's "events\_unbound"); the JSON is plain.
func TestSampleLimitsAgree(t *testing.T) {
	for name := range sampleVerdicts {
		md, err := os.ReadFile(filepath.Join(samplesDir, name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		_, section, ok := strings.Cut(string(md), "### What the collector could not see\n\n")
		if !ok {
			t.Errorf("%s.md has no limits section", name)
			continue
		}
		section, _, _ = strings.Cut(section, "\n\n")
		section = strings.TrimRight(section, "\n") // the last section of the report
		var mdItems []string
		for _, l := range strings.Split(section, "\n") {
			mdItems = append(mdItems, unescapeMarkdown(strings.ReplaceAll(strings.TrimPrefix(l, "- "), "`", "")))
		}
		data, err := os.ReadFile(filepath.Join(samplesDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Limits []string `json:"limits"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Limits) == 0 {
			t.Errorf("%s: no limits in the JSON, the Markdown lists %q", name, mdItems)
			continue
		}
		if strings.Join(r.Limits, "\n") != strings.Join(mdItems, "\n") {
			t.Errorf("%s: JSON limits\n%q\ndiffer from the Markdown's\n%q", name, r.Limits, mdItems)
		}
	}
	var r struct {
		Limits []string `json:"limits"`
	}
	data, _ := os.ReadFile(filepath.Join(samplesDir, "nginx-logger-stdout.json"))
	json.Unmarshal(data, &r)
	if !strings.Contains(strings.Join(r.Limits, "\n"), "Bound strace-max-bytes hit") {
		t.Errorf("the strace byte bound of nginx-logger-stdout is not in its JSON limits: %q", r.Limits)
	}
}

// unescapeMarkdown drops the backslash of a Markdown escape ("\_" is "_").
func unescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", rune(s[i+1])) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
