package model

import (
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// memory.stat's dirty state: v2 file_dirty/file_writeback, v1
// total_dirty/total_writeback (with descendants) before dirty/writeback.
func TestMemoryStatDirty(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		dirty, wb uint64
		ok        bool
	}{
		{"v2", "anon 4096\nfile 8192\nfile_dirty 12288\nfile_writeback 4096\n", 12288, 4096, true},
		{"v1", "cache 8192\ndirty 4096\nwriteback 0\ntotal_dirty 8192\ntotal_writeback 4096\n", 8192, 4096, true},
		{"v1 without totals", "dirty 4096\nwriteback 8192\n", 4096, 8192, true},
		{"none", "anon 4096\n", 0, 0, false},
		{"garbage", "file_dirty x\nfile_writeback\n", 0, 0, false},
	} {
		d, w, ok := memoryStatDirty([]byte(tc.in))
		if d != tc.dirty || w != tc.wb || ok != tc.ok {
			t.Errorf("%s: got %d, %d, %v; want %d, %d, %v", tc.name, d, w, ok, tc.dirty, tc.wb, tc.ok)
		}
	}
}

// The bdi files as the collector frames them (/sys/class/bdi/MAJ:MIN/FILE).
func TestBDIFrames(t *testing.T) {
	l := &loader{m: &Model{}}
	for file, v := range map[string]string{"min_ratio": "0", "max_ratio": "100", "min_bytes": "0", "max_bytes": "33554432", "strict_limit": "1"} {
		l.bdi("7:0/"+file, []byte(v+"\n"))
	}
	l.bdi("0:53/max_ratio", []byte("1\n"))
	b := l.m.BDIOf(procfs.Dev{Major: 7, Minor: 0})
	if b == nil || !b.StrictLimit || b.MaxBytes != 32<<20 || b.MaxRatio != 100 || !b.Capped() {
		t.Fatalf("bdi 7:0: %+v", b)
	}
	if f := l.m.BDIs["0:53"]; f == nil || !f.Capped() || f.StrictLimit {
		t.Errorf("bdi 0:53 with max_ratio 1: %+v", f)
	}
	if (&Model{}).BDIOf(procfs.Dev{Major: 7, Minor: 0}) != nil {
		t.Error("a bundle without bdi frames has a bdi")
	}
}
