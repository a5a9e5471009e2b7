package redact

import (
	"bytes"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// Bundle masks the command lines and strace text, keeps the kernel log and
// every unchanged member byte for byte, and records the pass.
func TestBundle(t *testing.T) {
	frame := func(path, data string) []byte {
		return bundle.AppendFrame(nil, bundle.Frame{Path: path, Status: bundle.StatusOK, MonoNS: 7, Data: []byte(data)})
	}
	table := append(frame("/proc/42/stat", "42 (curl) S 1"), frame("/proc/42/cmdline", "curl\x00-H\x00Authorization: Bearer abc\x00https://x\x00")...)
	table = append(table, bundle.AppendFrame(nil, bundle.Frame{Path: "/proc/43/cmdline", Status: bundle.StatusDenied, Data: []byte("permission denied")})...)
	trace := "10:00:00.1 write(3<socket:[9]>, \"POST / HTTP/1.1\\r\\nCookie: sid=abc\\r\\n\"..., 64) = 64\n10:00:00.2 fsync(4</data/acme.db>) = 0\n"
	kmsg := "6,1,2,-;app password=hunter2 oom\n"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &bundle.Manifest{End: bundle.Clock{Wall: at}}
	var buf bytes.Buffer
	err := bundle.Write(&buf, m, []bundle.File{
		bundle.BytesFile(bundle.KmsgMember, []byte(kmsg)),
		bundle.BytesFile(bundle.ProcTableMember, table),
		bundle.BytesFile(bundle.TraceMember(42), []byte(trace)),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.ReadAll(&buf, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := New([]string{`acme`})
	p, err := Bundle(b, r, "test", at)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := bundle.Write(&out, p.Manifest, p.Files); err != nil {
		t.Fatal(err)
	}
	got, err := bundle.ReadAll(&out, bundle.DefaultLimits)
	if err != nil {
		t.Fatalf("the redacted bundle does not read back: %v", err)
	}
	wantTable := append(frame("/proc/42/stat", "42 (curl) S 1"), frame("/proc/42/cmdline", "curl\x00-H\x00Authorization: Bearer ***\x00https://x\x00")...)
	wantTable = append(wantTable, bundle.AppendFrame(nil, bundle.Frame{Path: "/proc/43/cmdline", Status: bundle.StatusDenied, Data: []byte("permission denied")})...)
	for name, want := range map[string]string{
		bundle.KmsgMember:      kmsg,
		bundle.ProcTableMember: string(wantTable),
		bundle.TraceMember(42): "10:00:00.1 write(3<socket:[9]>, \"POST / HTTP/1.1\\r\\nCookie: ***\\r\\n\"..., 64) = 64\n10:00:00.2 fsync(4</data/***.db>) = 0\n",
	} {
		if data, _ := got.Member(name); string(data) != want {
			t.Errorf("%s:\n got %q\nwant %q", name, data, want)
		}
	}
	red := got.Manifest.Redaction
	if len(red.Passes) != 1 {
		t.Fatalf("passes %+v", red.Passes)
	}
	rec := red.Passes[0]
	if rec.Masked != 3 || rec.Kinds[KindHeader] != 2 || rec.Kinds[KindPattern] != 1 || len(rec.Patterns) != 1 || rec.Patterns[0].Masked != 1 ||
		!rec.At.Equal(at) || rec.By != "test" || rec.Rules != Rules || len(rec.Members) != 2 {
		t.Errorf("record %+v", rec)
	}
	if len(red.Log) != 3 || red.Log[0].PID != 42 || red.Log[0].Member != bundle.ProcTableMember || red.Log[2].Arg != 2 {
		t.Errorf("log %+v", red.Log)
	}
	if len(b.Manifest.Redaction.Passes) != 0 {
		t.Error("the input's manifest was changed")
	}
}
