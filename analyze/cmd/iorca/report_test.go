package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/klauspost/compress/zstd"
)

// reportJSON is the part of the JSON report the tests read.
type reportJSON = reporttest.Report

func runReport(t *testing.T, path string, extra ...string) (reportJSON, string) {
	t.Helper()
	return reporttest.RunReport(t, run, path, extra...)
}

// writeTarZst builds an adversarial bundle by hand: the collector never
// writes such a thing.
func writeTarZst(t *testing.T, path string, entries map[string]string, order []string) {
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		data := entries[name]
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644})
		tw.Write([]byte(data))
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Acceptance 4 of issue 4: not a bundle, a truncated bundle, a bundle with
// a ".." or absolute member: one line naming the problem, exit 2, nothing
// written anywhere.
func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	notBundle := filepath.Join(dir, "notes.txt")
	os.WriteFile(notBundle, []byte("just text\n"), 0o644)

	// A real bundle, then cut.
	var good bytes.Buffer
	m := &bundle.Manifest{}
	bundle.Write(&good, m, []bundle.File{bundle.BytesFile("ticks/000000.frames", bytes.Repeat([]byte("F ok 1 0 /proc/uptime\n\n"), 2000)), bundle.BytesFile("ticks/000001.frames", bytes.Repeat([]byte("F ok 2 0 /proc/uptime\n\n"), 2000))})
	truncated := filepath.Join(dir, "truncated.tar.zst")
	os.WriteFile(truncated, good.Bytes()[:good.Len()*2/3], 0o644)

	mj := func(name string) string {
		man := bundle.Manifest{Format: bundle.FormatVersion, Members: []bundle.Member{{Name: name, Size: 1, SHA256: bundle.Sum([]byte("x"))}}}
		j, _ := json.Marshal(man)
		return string(j)
	}
	dotdot := filepath.Join(dir, "dotdot.tar.zst")
	writeTarZst(t, dotdot, map[string]string{"manifest.json": mj("a"), "../../etc/cron.d/x": "x"}, []string{"manifest.json", "../../etc/cron.d/x"})
	abs := filepath.Join(dir, "abs.tar.zst")
	writeTarZst(t, abs, map[string]string{"manifest.json": mj("a"), "/tmp/evil": "x"}, []string{"manifest.json", "/tmp/evil"})
	listsAbs := filepath.Join(dir, "listsabs.tar.zst")
	writeTarZst(t, listsAbs, map[string]string{"manifest.json": mj("/etc/passwd"), "/etc/passwd": "x"}, []string{"manifest.json", "/etc/passwd"})

	cases := map[string]struct{ path, want string }{
		"not a bundle":   {notBundle, "not an iorca bundle"},
		"truncated":      {truncated, "truncated"},
		"dotdot":         {dotdot, `".." element`},
		"absolute":       {abs, "absolute"},
		"lists absolute": {listsAbs, "absolute"},
		"missing":        {filepath.Join(dir, "nope.tar.zst"), "no such file"},
		"directory":      {dir, "is a directory"},
	}
	for name, tc := range cases {
		for _, format := range []string{"md", "json", "html"} {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(name, " ", "_")+"."+format)
			var stdout, stderr bytes.Buffer
			code := run([]string{"report", tc.path, "--format", format, "-o", out}, &stdout, &stderr)
			if code != exitBadInput {
				t.Errorf("%s: exit %d, want 2", name, code)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) || !strings.Contains(msg, filepath.Base(tc.path)) {
				t.Errorf("%s: stderr %q, want one line naming the file and %q", name, msg, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("%s: wrote %d bytes to stdout", name, stdout.Len())
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s: wrote %s", name, out)
			}
		}
	}
	// Nothing was written outside the temporary directory either.
	if _, err := os.Stat("/tmp/evil"); err == nil {
		t.Error("/tmp/evil exists")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 5 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the 5 inputs", names)
	}
}

// Adversarial case, built from a real sample: its trace gains a line
// strace never writes and a resumed call without its start. The report's
// limits (Markdown and JSON) and the strace view say what was left out.
func TestReportNamesSkippedTraceLines(t *testing.T) {
	b, err := bundle.ReadFile(filepath.Join(samplesDir, "fsync-storm.tar.zst"), bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	tg := b.Manifest.Targets[0]
	if tg.Strace == nil || tg.Strace.Member == "" {
		t.Fatalf("fsync-storm's first target has no trace: %+v", tg)
	}
	var files []bundle.File
	for _, name := range b.Names() {
		data, _ := b.Member(name)
		if name == tg.Strace.Member {
			data = append([]byte(fmt.Sprintf("%d 00:00:00.000001 <... write resumed>) = 4 <0.000010>\nnot a line of strace\n", tg.PID)), data...)
		}
		files = append(files, bundle.BytesFile(name, data))
	}
	path := filepath.Join(t.TempDir(), "adversarial-skipped-lines.tar.zst")
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b.Manifest, files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "lines are in no strace form (first: line 2), 1 resumed calls have no start in the trace"
	var md, js, view, errb bytes.Buffer
	if code := run([]string{"report", path}, &md, &errb); code != exitOK || !strings.Contains(md.String(), want) {
		t.Errorf("Markdown (exit %d) does not say %q\n%s", code, want, errb.String())
	}
	if code := run([]string{"report", path, "--format", "json"}, &js, &errb); code != exitOK || !strings.Contains(js.String(), want) {
		t.Errorf("JSON limits (exit %d) do not say %q", code, want)
	}
	if code := run([]string{"replay", path, "strace"}, &view, &errb); code != exitOK || !strings.Contains(view.String(), want) {
		t.Errorf("strace view (exit %d) does not say %q\n%.2000s", code, want, view.String())
	}
}

// A bundle cut short in an upload is refused, one line naming it; with
// --salvage it is reported from whatever members were read and verified
// before the cut, marked partial with what was not read, exit 3. Every
// sample is cut at a quarter, half, three quarters and nine tenths: the
// members come statics, targets, traces, then ticks, so most cuts leave
// the host and some traces but fewer than two ticks, and the report must
// then say that rates are unknown rather than that the node was fine. A
// cut within the manifest leaves nothing to verify: refused, exit 2.
func TestReportSalvage(t *testing.T) {
	bundles, _ := filepath.Glob(filepath.Join(samplesDir, "*.tar.zst"))
	if len(bundles) == 0 {
		t.Fatalf("no sample bundle in %s", samplesDir)
	}
	dir := t.TempDir()
	for _, path := range bundles {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ticks := tickMembers(t, path)
		name := strings.TrimSuffix(filepath.Base(path), ".tar.zst")
		for _, pct := range []int{25, 50, 75, 90} {
			cut := filepath.Join(dir, fmt.Sprintf("%s-%d.tar.zst", name, pct))
			if err := os.WriteFile(cut, data[:len(data)*pct/100], 0o644); err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%s/%d%%", name, pct), func(t *testing.T) {
				t.Parallel()
				checkSalvage(t, cut, ticks)
			})
		}
	}
}

// checkSalvage reports on cut, a sample whose whole holds ticks tick
// members, without and with --salvage, and checks what each says.
func checkSalvage(t *testing.T, cut string, ticks int) {
	var out, errb bytes.Buffer
	if code := run([]string{"report", cut}, &out, &errb); code != exitBadInput || !strings.Contains(errb.String(), "bundle truncated") {
		t.Fatalf("without --salvage: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	code := run([]string{"report", cut, "--salvage"}, &out, &errb)
	stderr := errb.String()
	if code == exitBadInput {
		// Cut within the manifest: nothing can be verified.
		if !strings.Contains(stderr, `bundle truncated: member "manifest.json"`) || !strings.Contains(stderr, "nothing to salvage") || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("refused salvage: %q", stderr)
		}
		return
	}
	var missing, read, listed int
	if _, err := fmt.Sscanf(stderr[strings.Index(stderr, "salvaged: ")+len("salvaged: "):], "%d member(s) not read, %d of %d ticks read", &missing, &read, &listed); code != exitPartial || err != nil {
		t.Fatalf("--salvage: exit %d, %q (%v)", code, stderr, err)
	}
	if listed != ticks || missing == 0 || read > ticks {
		t.Errorf("stderr %q: the whole sample holds %d ticks", stderr, ticks)
	}
	md := out.String()
	for _, want := range []string{"**salvaged from a damaged bundle**", fmt.Sprintf("not read: %d member(s)", missing), fmt.Sprintf("%d ticks every", read)} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown does not say %q:\n%.1200s", want, md)
		}
	}
	unknown := strings.Contains(md, "No verdict:") && strings.Contains(md, "rates are unknown")
	switch {
	case read < 2 && !unknown:
		t.Errorf("%d tick(s) read: the verdict does not say rates are unknown:\n%.1200s", read, md)
	case read < 2 && strings.Contains(md, "No IO problem"):
		t.Errorf("%d tick(s) read: the report claims no problem:\n%.1200s", read, md)
	case read >= 2 && unknown:
		t.Errorf("%d ticks read, yet the verdict says rates are unknown", read)
	}
}

// tickMembers counts the tick members the manifest of the bundle at path
// lists.
func tickMembers(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := bundle.NewReader(f, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for _, m := range rd.Manifest.Members {
		if bundle.KindOf(m.Name) == bundle.KindTick {
			n++
		}
	}
	return n
}
