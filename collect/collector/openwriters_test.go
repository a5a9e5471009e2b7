package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// On a trace this collector captured (testdata/README.md): the inodes the
// flushers wrote with no user task's dirtying in the trace are 12 (the
// test writer's, dirtied before the trace) and 7340032 (dirtied by jbd2
// alone, a kernel thread); the root disk's inode a go build dirtied in the
// trace is not among them.
func TestUnownedInodesOnCapturedTrace(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pretrace-writeback.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]bool{12: true, 7340032: true}
	if got := unownedInodes(bytes.NewReader(b)); !reflect.DeepEqual(got, want) {
		t.Errorf("unownedInodes = %v, want %v", got, want)
	}
}
