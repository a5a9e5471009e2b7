package procfs

import (
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// Source: prometheus/procfs testdata/fixtures/proc/26231/io, values from
// procfs's proc_io_test.go (negative cancelled_write_bytes on purpose).
func TestParsePIDIOProcfsFixture(t *testing.T) {
	got, err := ParsePIDIO(fixture.Read(t, "procfs/testdata/fixtures/proc/26231/io"))
	if err != nil {
		t.Fatal(err)
	}
	want := PIDIO{RChar: 750339, WChar: 818609, SyscR: 7405, SyscW: 5245, ReadBytes: 1024, WriteBytes: 2048, CancelledWriteBytes: -1024}
	if got != want {
		t.Errorf("ParsePIDIO = %+v, want %+v", got, want)
	}
}

// Source: sysstat tests/root1/proc/*/io, read by pidstat -d in its tests.
func TestParsePIDIOSysstatFixtures(t *testing.T) {
	files := fixture.Glob(t, "sysstat/tests/root*/proc/[0-9]*/io")
	if len(files) == 0 {
		t.Fatal("no sysstat io fixtures")
	}
	for _, f := range files {
		if _, err := ParsePIDIO(fixture.Read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParsePIDIO(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    PIDIO
		wantErr bool
	}{
		{"kernel 6.18 form", "rchar: 93\nwchar: 100000\nsyscr: 1\nsyscw: 1000\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n",
			PIDIO{RChar: 93, WChar: 100000, SyscR: 1, SyscW: 1000, WriteBytes: 4096}, false},
		{"unknown key ignored", "rchar: 1\nfuture_key: 7\n", PIDIO{RChar: 1}, false},
		{"no trailing newline", "wchar: 5", PIDIO{WChar: 5}, false},
		{"bad number", "rchar: x\n", PIDIO{}, true},
		{"no colon", "rchar 1\n", PIDIO{}, true},
		{"empty", "", PIDIO{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePIDIO([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.name, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func FuzzParsePIDIO(f *testing.F) {
	addTestdataSeeds(f, "node/proc/21537/io", "holder/proc/25066/io")
	f.Add([]byte("rchar: 750339\nwchar: 818609\nsyscr: 7405\nsyscw: 5245\nread_bytes: 1024\nwrite_bytes: 2048\ncancelled_write_bytes: -1024\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParsePIDIO(b) })
}
