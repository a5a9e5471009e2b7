package main

import (
	"io"
	"testing"
)

// BenchmarkReport reads, models, diagnoses and renders each sample bundle:
// the whole of "iorca report" but for printing.
func BenchmarkReport(b *testing.B) {
	for _, name := range []string{"idle", "overlay-sync-logger", "nginx-logger-stdout"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if code := run([]string{"report", samplesDir + "/" + name + ".tar.zst"}, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
