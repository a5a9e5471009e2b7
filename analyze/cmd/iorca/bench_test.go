package main

import (
	"io"
	"os"
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

// BenchmarkReportBundle is iorca report on the bundle named by
// IORCA_BENCH_BUNDLE (bench/genbundle makes large ones), for profiles:
// go test -run '^$' -bench ReportBundle -cpuprofile cpu.out ./analyze/cmd/iorca
func BenchmarkReportBundle(b *testing.B) {
	path := os.Getenv("IORCA_BENCH_BUNDLE")
	if path == "" {
		b.Skip("IORCA_BENCH_BUNDLE names no bundle")
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if code := run([]string{"report", path}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
}
