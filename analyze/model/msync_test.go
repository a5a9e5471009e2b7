package model

import (
	"testing"

	"github.com/iorca/iorca/analyze/strace"
	"github.com/iorca/iorca/internal/procfs"
)

// A mapped journal's msyncs as strace -f -tt -T -y prints them (captured
// here from iorca-workload --sync msync), one MS_ASYNC among them, and
// a shell loop's sync(1) and sync -f calls.
const msyncTrace = `17031 16:24:57.100000 msync(0x7f953d59c000, 512, MS_SYNC) = 0 <0.006363>
17031 16:24:57.110000 msync(0x7f953d59c000, 1024, MS_SYNC) = 0 <0.000437>
17031 16:24:57.120000 msync(0x7f953d59d000, 4096, MS_SYNC) = 0 <0.012000>
17031 16:24:57.130000 msync(0x7f9541700000, 4096, MS_ASYNC) = 0 <0.000010>
17040 16:24:57.140000 sync() = 0 <0.120000>
17041 16:24:57.350000 syncfs(3</srv/data>) = 0 <0.080000>
`

func TestSummarizeMsyncAndSync(t *testing.T) {
	s := Summarize(strace.Parse([]byte(msyncTrace)), 1)
	m := s.Msyncs
	if m == nil || m.Calls != 4 || m.Sync != 3 || m.Async != 1 || m.RangeBytes != 5632 || m.FirstLine != 1 {
		t.Fatalf("msyncs %+v", m)
	}
	if m.Lat.Calls != 3 || m.Lat.TotalUS != 18800 {
		t.Errorf("latency %+v", m.Lat)
	}
	// The three MS_SYNC ranges touch: one range of two pages.
	if len(m.Ranges) != 1 || m.Ranges[0] != (AddrRange{0x7f953d59c000, 0x7f953d59e000}) {
		t.Errorf("ranges %x", m.Ranges)
	}
	a := s.SyncAll
	if a.Calls() != 2 || a.Sync != 1 || a.Syncfs != 1 || a.Filesystems["/srv/data"] != 1 || len(a.Tasks) != 2 || a.Lat.TotalUS != 200000 {
		t.Errorf("sync calls %+v", a)
	}
	tg := &Target{summary: s, Maps: []procfs.Mapping{
		{Start: 0x7f953d59c000, End: 0x7f954159c000, Perms: "rw-s", Path: "/srv/data/journal.dat"},
		{Start: 0x7f9541700000, End: 0x7f9541701000, Perms: "rw-s", Path: "/srv/data/other.dat"},
		{Start: 0x7f9541800000, End: 0x7f9541900000, Perms: "r--p", Path: "/usr/lib/libc.so.6"},
	}}
	files := tg.MsyncFiles()
	if len(files) != 1 || files[0].Path != "/srv/data/journal.dat" || files[0].Bytes != 8192 || files[0].MapBytes != 64<<20 {
		t.Errorf("files %+v", files)
	}
}

// Ranges stay bounded: scattered msyncs widen the nearest kept range.
func TestMsyncRangesBounded(t *testing.T) {
	var m Msyncs
	for i := range 200 {
		m.merge(AddrRange{uint64(i) * 0x10000, uint64(i)*0x10000 + 0x1000})
	}
	if len(m.Ranges) != maxRanges {
		t.Fatalf("%d ranges", len(m.Ranges))
	}
	for i := 1; i < len(m.Ranges); i++ {
		if m.Ranges[i].Start < m.Ranges[i-1].End {
			t.Fatalf("ranges overlap or out of order: %x", m.Ranges)
		}
	}
}
