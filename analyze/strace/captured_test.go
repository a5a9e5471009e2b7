package strace

import (
	"path/filepath"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// The parser on traces the collector itself captured on a real machine
// (strace -f -tt -T -y -s 0, in the committed sample bundles): every line
// of a trace that strace ended at a bound parses, but for a cut last line
// and strace's own attach and detach messages; every completed write
// carries its fd with the path strace decorated it with.
func TestParseCapturedTraces(t *testing.T) {
	bundles, _ := filepath.Glob("../../samples/*.tar.zst")
	traces := 0
	for _, path := range bundles {
		b, err := bundle.ReadFile(path, bundle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range b.Manifest.Targets {
			if tg.Strace == nil || tg.Strace.Member == "" {
				continue
			}
			data, ok := b.Member(tg.Strace.Member)
			if !ok {
				t.Fatalf("%s: %s listed but absent", path, tg.Strace.Member)
			}
			traces++
			tr := Parse(data)
			name := filepath.Base(path) + " " + tg.Strace.Member
			if tr.Lines != tg.Strace.Lines && !tg.Strace.Truncated {
				t.Errorf("%s: %d lines, the manifest says %d", name, tr.Lines, tg.Strace.Lines)
			}
			if len(tr.Malformed) > 2 {
				t.Errorf("%s: %d malformed lines (%v), want at most strace's attach line and a cut last line", name, len(tr.Malformed), tr.Malformed)
			}
			writes := 0
			for _, c := range tr.Calls {
				if c.Name != "write" || c.Incomplete || !c.RetKnown || c.Ret < 0 {
					continue
				}
				writes++
				if fd, ok := c.FD(); !ok || fd.Path == "" {
					t.Errorf("%s line %d: write without a decorated fd: %q", name, c.Line, c.Args)
					break
				}
				if !c.Dur.Valid {
					t.Errorf("%s line %d: write without its -T duration", name, c.Line)
					break
				}
			}
			// A target blocked in one syscall for the whole trace (a
			// shell in wait4) gives no line: strace prints a call when
			// it returns. Its signals (a runtime's SIGURG) are events.
			if len(tr.Calls) == 0 && tr.Lines > len(tr.Events) {
				t.Errorf("%s: no syscall parsed from %d lines", name, tr.Lines)
			}
		}
	}
	if traces == 0 {
		t.Fatal("no trace in the samples")
	}
}
