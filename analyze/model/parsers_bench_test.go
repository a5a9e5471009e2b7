package model_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/strace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// The parsers' speed, in MB/s of the kernel's text and allocations per
// call, on files the collector captured (the committed samples):
//
//	go test -run '^$' -bench Parse -benchmem ./analyze/model
//
// The figures are in README.md ("Cost of the analyzer").

// sampleMember reads one member of a sample bundle.
func sampleMember(b *testing.B, sample, name string) []byte {
	b.Helper()
	bd, err := bundle.ReadFile("../../samples/"+sample+".tar.zst", bundle.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	data, ok := bd.Member(name)
	if !ok {
		b.Fatalf("%s has no %s", sample, name)
	}
	return data
}

// tickFiles are the frames of one tick of a sample, by kind of file.
func tickFiles(b *testing.B) map[string][][]byte {
	b.Helper()
	fs, err := bundle.ParseFrames(sampleMember(b, "overlay-slow-disk", bundle.TickMember(3)))
	if err != nil {
		b.Fatal(err)
	}
	out := map[string][][]byte{}
	for _, f := range fs {
		kind := f.Path
		if strings.HasPrefix(kind, "/proc/") && len(kind) > 6 && kind[6] >= '0' && kind[6] <= '9' {
			kind = "/proc/PID/" + kind[strings.LastIndexByte(kind, '/')+1:]
		}
		if strings.HasPrefix(kind, "/sys/block/") {
			kind = "/sys/block/DEV/stat"
		}
		out[kind] = append(out[kind], f.Data)
	}
	return out
}

func benchFiles(b *testing.B, files [][]byte, parse func([]byte)) {
	b.Helper()
	if len(files) == 0 {
		b.Skip("no such file in the sample")
	}
	n := 0
	for _, f := range files {
		n += len(f)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			parse(f)
		}
	}
}

func BenchmarkParseTickFiles(b *testing.B) {
	files := tickFiles(b)
	for _, tc := range []struct {
		kind  string
		parse func([]byte)
	}{
		{"/proc/PID/stat", func(d []byte) { procfs.ParsePIDStat(d) }},
		{"/proc/PID/io", func(d []byte) { procfs.ParsePIDIO(d) }},
		{"/proc/diskstats", func(d []byte) { procfs.ParseDiskstats(d) }},
		{"/sys/block/DEV/stat", func(d []byte) { procfs.ParseBlockStat("loop0", d) }},
		{"/proc/vmstat", func(d []byte) { procfs.ParseVmstat(d) }},
		{"/proc/meminfo", func(d []byte) { procfs.ParseMeminfo(d) }},
		{"/proc/stat", func(d []byte) { procfs.ParseProcStat(d) }},
		{"/proc/pressure/io", func(d []byte) { procfs.ParsePSI(d) }},
		{"/proc/uptime", func(d []byte) { procfs.ParseUptime(d) }},
		{"/proc/loadavg", func(d []byte) { procfs.ParseLoadavg(d) }},
	} {
		b.Run(strings.ReplaceAll(tc.kind, "/", "_"), func(b *testing.B) { benchFiles(b, files[tc.kind], tc.parse) })
	}
}

func BenchmarkParseStatic(b *testing.B) {
	host, err := bundle.ParseFrames(sampleMember(b, "overlay-slow-disk", bundle.HostMember))
	if err != nil {
		b.Fatal(err)
	}
	var mountinfo []byte
	for _, f := range host {
		if f.Path == "/proc/self/mountinfo" {
			mountinfo = f.Data
		}
	}
	b.Run("mountinfo", func(b *testing.B) { benchFiles(b, [][]byte{mountinfo}, func(d []byte) { procfs.ParseMountinfo(d) }) })
	kmsg := sampleMember(b, "failing-disk", bundle.KmsgMember)
	b.Run("kmsg", func(b *testing.B) { benchFiles(b, [][]byte{kmsg}, func(d []byte) { procfs.ParseKmsg(d) }) })
}

// BenchmarkParseFrames is the framing of a tick member: every frame's
// header and data located.
func BenchmarkParseFrames(b *testing.B) {
	data := sampleMember(b, "overlay-slow-disk", bundle.TickMember(3))
	b.Run("one", func(b *testing.B) {
		benchFiles(b, [][]byte{data}, func(d []byte) {
			for range bundle.Frames(d) {
			}
		})
	})
	// As the loader reads a capture: one decoder for every tick, whose
	// paths repeat from one tick to the next.
	b.Run("ticks", func(b *testing.B) {
		var dec bundle.FrameDecoder
		benchFiles(b, [][]byte{data}, func(d []byte) {
			for range dec.Frames(d) {
			}
		})
	})
}

// BenchmarkParseStrace is the strace parser on the largest captured
// trace (nginx-logger-stdout: 768 KiB, a shim's reads and writes).
func BenchmarkParseStrace(b *testing.B) {
	benchFiles(b, [][]byte{largestTrace(b)}, func(d []byte) { strace.Parse(d) })
}

// largestTrace is the largest captured trace of the samples.
func largestTrace(b *testing.B) []byte {
	b.Helper()
	bd, err := bundle.ReadFile("../../samples/nginx-logger-stdout.tar.zst", bundle.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	var biggest []byte
	for _, tg := range bd.Manifest.Targets {
		if tg.Strace != nil && tg.Strace.Member != "" {
			if d, _ := bd.Member(tg.Strace.Member); len(d) > len(biggest) {
				biggest = d
			}
		}
	}
	return biggest
}

// BenchmarkParseBlockTrace is the trace_pipe line parser on the block
// trace of overlay-slow-disk.
func BenchmarkParseBlockTrace(b *testing.B) {
	data := sampleMember(b, "overlay-slow-disk", bundle.BlockTraceMember)
	benchFiles(b, [][]byte{data}, func(d []byte) {
		sc := bufio.NewScanner(bytes.NewReader(d))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			ftrace.ParseLine(sc.Bytes())
		}
	})
}

// BenchmarkSummarizeStrace is what the loader does with a trace (parse,
// then summarise) on the largest captured trace.
func BenchmarkSummarizeStrace(b *testing.B) {
	benchFiles(b, [][]byte{largestTrace(b)}, func(d []byte) { model.Summarize(strace.Parse(d), 10) })
}
