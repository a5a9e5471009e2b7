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

// A copy is told by what it does: bytes read and written alike in the
// trace, or descriptors' offsets a buffer apart; a database holding its
// segment files "16384" and "16384.1" (offsets 0, or far apart) is not
// copying one into the other.
func TestCopying(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst fileUse
		want     bool
	}{
		{"traced copy", fileUse{readBytes: 26 << 20, pos: -1}, fileUse{writeBytes: 26 << 20, pos: -1}, true},
		{"offsets of a copy in progress", fileUse{pos: 100675296}, fileUse{pos: 100675296}, true},
		{"the read a buffer ahead", fileUse{pos: 8192 * 100}, fileUse{pos: 8192 * 99}, true},
		{"segment files at offset 0", fileUse{pos: 0}, fileUse{pos: 0}, false},
		{"segment files far apart", fileUse{pos: 900 << 20}, fileUse{pos: 10 << 20}, false},
		{"reads a little, writes much", fileUse{readBytes: 8192, pos: -1}, fileUse{writeBytes: 64 << 20, pos: -1}, false},
	} {
		if got := copying(tc.src, tc.dst); got != tc.want {
			t.Errorf("%s: copying = %v, want %v", tc.name, got, tc.want)
		}
	}
}
