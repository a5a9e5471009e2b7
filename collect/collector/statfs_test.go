package collector

import (
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// The mounts a target sees that the host's table has not are read
// through the target's root and recorded with its PID; the host's are
// not read twice. Here the target is this test process, whose mount
// table is the host's but for one mount left out of the host's list.
func TestCaptureTargetStatfs(t *testing.T) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no /proc/self/mountinfo: %v", err)
	}
	mounts, err := procfs.ParseMountinfo(data)
	if err != nil {
		t.Fatal(err)
	}
	var root procfs.Mount
	for _, m := range mounts {
		if m.MountPoint == "/" {
			root = m
		}
	}
	if root.ID == 0 {
		t.Skip("no root mount in /proc/self/mountinfo")
	}
	c := &collection{ledger: newLedger(), store: newStore(time.Now()), statfsIDs: map[int]bool{}}
	var host []procfs.Mount
	for _, m := range mounts {
		if m.ID != root.ID {
			host = append(host, m)
		}
	}
	c.captureStatfs(host)
	before := len(c.statfs)
	c.captureTargetStatfs(os.Getpid(), data)
	if len(c.statfs) != before+1 {
		t.Fatalf("the target's view added %d mounts, want only the one the host list lacks", len(c.statfs)-before)
	}
	got := c.statfs[before]
	var st syscall.Statfs_t
	if err := syscall.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	if got.MountID != root.ID || got.PID != os.Getpid() || got.Status != bundle.StatusOK || got.Blocks != st.Blocks {
		t.Errorf("target statfs %+v, want mount %d through PID %d with %d blocks", got, root.ID, os.Getpid(), st.Blocks)
	}
	raw, ok := readMember(c.store, bundle.StatfsMember)
	var stored []bundle.Statfs
	if !ok || json.Unmarshal(raw, &stored) != nil || len(stored) != len(c.statfs) {
		t.Errorf("the statfs member holds %d entries, want %d", len(stored), len(c.statfs))
	}
}
