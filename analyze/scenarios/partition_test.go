package scenarios

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/samples/workload"
)

// A file on a partition (as on most nodes: vda1, nvme0n1p2) lands on its
// whole disk: the device iostat and the block trace speak of. An O_DSYNC
// writer on the first partition of a loop device: its file is placed on
// the loop device, and without a block trace its device time is estimated
// there.
func TestFileOnPartitionLandsOnItsDisk(t *testing.T) {
	workload.Live(t)
	workload.RequireTool(t, "partx")
	dev := workload.LoopDevice(t, 256)
	writeMBR(t, dev, 256<<20/512)
	workload.MustRun(t, "partx", "--add", dev)
	t.Cleanup(func() { exec.Command("partx", "--delete", dev).Run() })
	mnt := workload.Ext4On(t, dev+"p1")
	w := workload.StartWriter(t, "--file", filepath.Join(mnt, "wal.log"), "--size", "512", "--sync", "odsync", "--rate", "100")
	cfg := livetest.Config(t, 5*time.Second)
	cfg.BlockTrace = false
	m := livetest.Load(t, livetest.Capture(t, cfg, 0))
	win := window.New(m, window.Defaults())
	tv := win.Target(w.Process.Pid)
	if tv == nil {
		t.Fatal("the writer is not a target")
	}
	pl, ok := win.Place(tv, win.HotFile(tv))
	disk := filepath.Base(dev)
	if !ok || pl.Device != disk {
		t.Fatalf("the writer's file is placed on %+v, want %s", pl, disk)
	}
	if dt := win.DeviceTimes[disk]; dt == nil || dt.Find(w.Process.Pid) == nil {
		t.Errorf("no estimated device time for the writer on %s: %+v", disk, win.DeviceTimes)
	}
}

// writeMBR writes a DOS partition table with one Linux partition from
// sector 2048 to the end of a device of sectors 512-byte sectors (what
// fdisk would write; fdisk is not installed here).
func writeMBR(t *testing.T, dev string, sectors uint32) {
	t.Helper()
	mbr := make([]byte, 512)
	entry := mbr[446:462]
	entry[4] = 0x83 // Linux
	binary.LittleEndian.PutUint32(entry[8:], 2048)
	binary.LittleEndian.PutUint32(entry[12:], sectors-2048)
	mbr[510], mbr[511] = 0x55, 0xAA
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}
