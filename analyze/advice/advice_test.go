package advice

import (
	"strings"
	"testing"
)

// Advice follows the mechanism (hand-made figures): a WAL is no record
// log, and buffering gains what the rate and the flush interval allow —
// 16 lines/s of 58 bytes flushed every 5 s is 80 times fewer calls, not
// the 64 KiB/58 B a buffer size alone would suggest.
func TestLogKindAndBufferGain(t *testing.T) {
	for path, want := range map[string]string{
		"/srv/data/wal-000001.log": "wal", "/var/lib/postgresql/pg_wal/0001": "wal", "/data/appendonly.aof": "wal",
		"/var/log/nginx/access.log": "log", "/srv/app/logs/app.txt": "log", "/srv/data/table.db": "",
	} {
		if got := LogKind(path); got != want {
			t.Errorf("logKind(%q) = %q, want %q", path, got, want)
		}
	}
	if got := BufferGain(16, 58); !strings.HasPrefix(got, "About 80 times fewer") || !strings.Contains(got, "once per 5 s") {
		t.Errorf("16/s of 58 B: %q", got)
	}
	if got := BufferGain(1190, 120); !strings.HasPrefix(got, "About 546 times fewer") {
		t.Errorf("1190/s of 120 B: %q", got)
	}
	if got := BufferGain(2, 1<<20); !strings.HasPrefix(got, "Its writes are already as large") {
		t.Errorf("2/s of 1 MiB: %q", got)
	}
}

// A command pastes into a shell as it is: an argument with a space, a
// quote or a $ is quoted, a plain path is not; a path the report elided
// or the collector masked never becomes a command.
func TestShellAndPasteable(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "-f", "/srv/data"}, "sync -f /srv/data"},
		{[]string{"truncate", "-s", "0", "/var/log/my app.log"}, "truncate -s 0 '/var/log/my app.log'"},
		{[]string{"echo", "it's $HOME"}, `echo 'it'\''s $HOME'`},
		{[]string{"x", ""}, "x ''"},
	} {
		if got := Shell(tc.args...); got != tc.want {
			t.Errorf("Shell(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
	for p, want := range map[string]bool{"/srv/data/a.log": true, "/srv/…/a.log": false, "/srv/REDACTED/a.log": false, "": false} {
		if Pasteable(p) != want {
			t.Errorf("Pasteable(%q) = %v", p, !want)
		}
	}
}

// What triggers a 64 KiB buffer's writes: the 5 s timer for a slow
// writer, its size for a fast one (in ms or s).
func TestFlushWhen(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want string
	}{
		{1000, "once per 5 s, when the timer fires"},
		{1 << 20, "each time it fills, every 62.5 ms"},
		{32768, "each time it fills, every 2.0 s"},
	} {
		if got := FlushWhen(tc.rate, 65536, 5); got != tc.want {
			t.Errorf("FlushWhen(%.0f B/s) = %q, want %q", tc.rate, got, tc.want)
		}
	}
}
