package rules

import "testing"

// A rotation's names: generations and dates after the live log's name
// are its copies; a name that merely starts the same is not; a
// compressor's extension names the file it holds.
func TestRotationNames(t *testing.T) {
	for _, tc := range []struct {
		name, live string
		want       bool
	}{
		{"/var/log/app.log.1", "/var/log/app.log", true},
		{"/var/log/app.log.12", "/var/log/app.log", true},
		{"/var/log/app.log-20261203", "/var/log/app.log", true},
		{"/var/log/app.log-2026120306", "/var/log/app.log", true},
		{"/var/log/app.log.2026-12-03", "/var/log/app.log", true},
		{"/var/log/app.log-2026-12-03-06", "/var/log/app.log", true},
		{"/var/log/app.log.tmp", "/var/log/app.log", false},
		{"/var/log/app.log2", "/var/log/app.log", false},
		{"/var/log/app.log.1.gz", "/var/log/app.log", false},
		{"/var/log/app.log", "/var/log/app.log", false},
		{"/var/log/app.log.bak", "/var/log/app.log", false},
	} {
		if got := rotatedCopy(tc.name, tc.live); got != tc.want {
			t.Errorf("rotatedCopy(%q, %q) = %v, want %v", tc.name, tc.live, got, tc.want)
		}
	}
	for name, want := range map[string]bool{"/var/log/app.log.1": true, "/var/log/syslog-20261203": true, "/var/log/app.log": false,
		"/srv/release-2.0/app.log": false, "/var/log/.1": false, "/data/db.7z": false} {
		if got := rotatedName(name); got != want {
			t.Errorf("rotatedName(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]string{"/var/log/app.log.1.gz": "/var/log/app.log.1", "/var/log/app.log.1.zst": "/var/log/app.log.1", "/var/log/app.log.1": "", ".gz": ""} {
		if got := compressedBase(name); got != want {
			t.Errorf("compressedBase(%q) = %q, want %q", name, got, want)
		}
	}
}
