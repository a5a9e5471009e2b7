package model

import (
	"bytes"
	"os"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// FuzzLoad feeds the loader (the bundle reader and every parser behind
// it) arbitrary input. Seeds: the smallest real sample, cut short, and
// adversarial beginnings (a bare zstd magic, frame headers that ask for
// terabyte windows). Its only job is to prove no panic and bounded work;
// bounds of 16 MiB in all keep every case small. `go test` runs the seeds;
// CI fuzzes it for 30 s (.ci/run).
func FuzzLoad(f *testing.F) {
	sample, err := os.ReadFile("../../samples/idle.tar.zst")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add(sample[:len(sample)/2])
	f.Add(sample[:512])
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 31 << 3, 0x01, 0x00, 0x00})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x00})
	lim := bundle.LimitsFor(16 << 20)
	f.Fuzz(func(t *testing.T, in []byte) {
		rd, err := bundle.NewReader(bytes.NewReader(in), lim)
		if err != nil {
			return
		}
		defer rd.Close()
		if m, err := LoadReader(rd); err == nil && m.Manifest == nil {
			t.Fatal("a model without its manifest")
		}
	})
}
