package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

func TestReadProcFiles(t *testing.T) {
	var r Reader
	b, st, err := r.Read("/proc/self/io")
	if err != nil || st != bundle.StatusOK || !bytes.Contains(b, []byte("write_bytes:")) {
		t.Fatalf("/proc/self/io: %q %s %v", b, st, err)
	}
	// A /proc file that reports size 0 but is long.
	b, st, err = r.Read("/proc/self/mountinfo")
	if err != nil || st != bundle.StatusOK || len(b) == 0 {
		t.Fatalf("mountinfo: %d bytes %s %v", len(b), st, err)
	}
}

func TestReadCapAndStatuses(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big")
	os.WriteFile(p, bytes.Repeat([]byte("x"), 1000), 0o644)
	r := Reader{Max: 100}
	b, st, err := r.Read(p)
	if err != nil || st != bundle.StatusPartial || len(b) != 100 {
		t.Errorf("capped read: %d bytes %s %v", len(b), st, err)
	}
	if _, st, _ := r.Read(filepath.Join(dir, "missing")); st != bundle.StatusAbsent {
		t.Errorf("missing file: %s", st)
	}
	if _, st, _ := r.Read("/proc/999999999/io"); st != bundle.StatusAbsent {
		t.Errorf("no such pid: %s", st)
	}
	if Classify(syscall.EACCES) != bundle.StatusDenied || Classify(syscall.EPERM) != bundle.StatusDenied ||
		Classify(syscall.ESRCH) != bundle.StatusAbsent || Classify(syscall.EIO) != bundle.StatusFailed {
		t.Error("Classify maps errnos wrongly")
	}
}

func TestNowClocksAdvance(t *testing.T) {
	a := Now()
	b := Now()
	if b.MonoNS < a.MonoNS || a.MonoNS <= 0 || a.BootNS < a.MonoNS || a.Wall.Year() < 2020 {
		t.Errorf("clocks: %+v then %+v", a, b)
	}
}
