package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// copySample copies a shipped sample bundle into a temporary directory.
func copySample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runRedact(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"redact"}, args...), &out, &errb)
	return code, errb.String()
}

// A redacted sample analyzes as before: the same verdict and findings,
// and a report that differs only where a value was masked.
func TestRedactRoundTrip(t *testing.T) {
	in := copySample(t, "fsync-storm.tar.zst")
	out := filepath.Join(t.TempDir(), "fsync-storm.tar.zst") // same base name: the same report header
	code, stderr := runRedact(t, in, out, "--redact", `--max-bytes (\S+)`)
	if code != exitOK || !strings.Contains(stderr, `pattern "--max-bytes (\\S+)" `) || strings.Contains(stderr, "64MiB") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	before, mdBefore := runReport(t, in)
	after, mdAfter := runReport(t, out)
	// Markdown escapes the mask outside code spans.
	got := strings.ReplaceAll(mdAfter, `\*\*\*`, "***")
	if want := strings.ReplaceAll(mdBefore, "--max-bytes 64MiB", "--max-bytes ***"); got != want {
		t.Errorf("the report changed beyond the masked value:\n%s", firstDiff(want, got))
	}
	sameDiagnosis(t, before, after)

	b, err := bundle.ReadFile(out, bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("the redacted bundle does not read back: %v", err)
	}
	red := b.Manifest.Redaction
	if len(red.Passes) != 1 || red.Passes[0].Masked == 0 || len(red.Passes[0].Patterns) != 1 || red.Passes[0].Patterns[0].Masked != red.Passes[0].Masked ||
		red.Passes[0].Rules == "" || red.Passes[0].At.IsZero() || len(red.Passes[0].Members) == 0 {
		t.Errorf("redaction record %+v", red.Passes)
	}
	for _, name := range b.Names() {
		data, _ := b.Member(name)
		if bytes.Contains(data, []byte("--max-bytes\x0064MiB")) || bytes.Contains(data, []byte("--max-bytes 64MiB")) {
			t.Errorf("%s still holds the value", name)
		}
	}

	// Again, with no pattern: the built-in rules find nothing more, and a
	// second record says so.
	out2 := filepath.Join(t.TempDir(), "fsync-storm.tar.zst")
	if code, stderr := runRedact(t, out, out2); code != exitOK || !strings.Contains(stderr, ": 0 value(s) masked in 0 member(s)") {
		t.Errorf("second pass: exit %d, stderr %q", code, stderr)
	}
	if b2, err := bundle.ReadFile(out2, bundle.DefaultLimits); err != nil || len(b2.Manifest.Redaction.Passes) != 2 {
		t.Errorf("second pass: %v", err)
	}
}

// A pattern over strace paths masks the trace too; the diagnosis stands.
func TestRedactStrace(t *testing.T) {
	in := copySample(t, "fsync-storm.tar.zst")
	out := filepath.Join(t.TempDir(), "out.tar.zst")
	if code, stderr := runRedact(t, in, out, "--redact", `wal-(\d+)`); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	b, err := bundle.ReadFile(out, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	traced := false
	for _, name := range b.Names() {
		data, _ := b.Member(name)
		if bundle.IsTraceText(name) || name == bundle.ProcTableMember {
			if bytes.Contains(data, []byte("wal-000001")) {
				t.Errorf("%s still names wal-000001", name)
			}
			traced = traced || (bundle.IsTraceText(name) && bytes.Contains(data, []byte("wal-***.log")))
		}
	}
	if !traced {
		t.Error("no strace member was masked")
	}
	before, _ := runReport(t, in)
	after, _ := runReport(t, out)
	sameDiagnosis(t, before, after)
}

func sameDiagnosis(t *testing.T, before, after reportJSON) {
	t.Helper()
	vb, va := before.Verdict, after.Verdict
	if vb.Problem != va.Problem || vb.Primary != va.Primary || vb.Confidence != va.Confidence || (vb.Culprit == nil) != (va.Culprit == nil) ||
		(vb.Culprit != nil && vb.Culprit.PID != va.Culprit.PID) {
		t.Errorf("verdict changed: %+v -> %+v", vb, va)
	}
	var ib, ia []string
	for _, f := range before.Findings {
		ib = append(ib, f.ID)
	}
	for _, f := range after.Findings {
		ia = append(ia, f.ID)
	}
	if strings.Join(ib, ",") != strings.Join(ia, ",") {
		t.Errorf("findings %v -> %v", ib, ia)
	}
}

// firstDiff shows where two texts first differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "want: " + al[i] + "\n got: " + bl[i]
		}
	}
	return "one is a prefix of the other"
}

func TestRedactRefuses(t *testing.T) {
	in := copySample(t, "idle.tar.zst")
	dir := t.TempDir()
	link := filepath.Join(dir, "link.tar.zst")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	notBundle := filepath.Join(dir, "notes.txt")
	os.WriteFile(notBundle, []byte("hello\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{in, in}, "OUT is IN"},
		{[]string{in, filepath.Join(filepath.Dir(in), ".", filepath.Base(in))}, "OUT is IN"},
		{[]string{in, link}, "symbolic link"},
		{[]string{in, filepath.Join(dir, "o.tar.zst"), "--redact", "a(b"}, `"a(b"`},
		{[]string{in}, "want a bundle IN and an output OUT"},
		{[]string{notBundle, filepath.Join(dir, "o.tar.zst")}, "notes.txt"},
	} {
		code, stderr := runRedact(t, tt.args...)
		if code != exitBadInput || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("the symlink was followed")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
}
