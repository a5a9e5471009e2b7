package units

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "16MiB": 16 << 20, "512KiB": 512 << 10, "2G": 2 << 30, "3 MiB": 3 << 20, "10B": 10,
		"64MB": 64 << 20, "64mib": 64 << 20, "64mb": 64 << 20, "1.5GiB": 3 << 29, "1.5g": 3 << 29, "2KB": 2048, "1TiB": 1 << 40, "0.5K": 512} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "99999999999GiB", "1e3MiB", "0x10", "NaN", "MiB", "1.5.5M", "-0.5G"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) accepted it", bad)
		}
	}
	if s := FormatBytes(16 << 20); s != "16.0 MiB" {
		t.Errorf("FormatBytes = %q", s)
	}
}

// A flag's default prints as the README writes it (16MiB, not 16.0MiB)
// and reads back to the same count.
func TestBytesStringRoundTrips(t *testing.T) {
	for n, want := range map[int64]string{16 << 20: "16MiB", 1 << 30: "1GiB", 3 << 29: "1536MiB", 512 << 10: "512KiB", 1000: "1000", 0: "0", 1<<20 + 1: "1048577"} {
		b := Bytes(n)
		if got := b.String(); got != want {
			t.Errorf("Bytes(%d).String() = %q, want %q", n, got, want)
		}
		var back Bytes
		if err := back.Set(b.String()); err != nil || back != b {
			t.Errorf("Set(%q) = %d, %v; want %d", b.String(), back, err, n)
		}
	}
}
