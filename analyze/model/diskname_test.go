package model

import (
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// A partition's writes are its disk's: the whole disk of a partition by
// its name, as /proc/diskstats lists them on this machine kind and others
// (vda1, nvme0n1p2, mmcblk0p1); a whole disk is itself; loop0 is not
// loop10's disk.
func TestDiskName(t *testing.T) {
	m := &Model{
		Blocks: map[string]*Block{"vda": {Name: "vda"}, "nvme0n1": {Name: "nvme0n1"}, "mmcblk0": {Name: "mmcblk0"}, "loop1": {Name: "loop1"}, "loop10": {Name: "loop10"}},
		Ticks: []*Tick{{Disks: map[string]procfs.DiskStat{
			"vda1": {Major: 254, Minor: 1, Name: "vda1"}, "nvme0n1p2": {Major: 259, Minor: 2, Name: "nvme0n1p2"},
			"mmcblk0p1": {Major: 179, Minor: 1, Name: "mmcblk0p1"}, "loop10": {Major: 7, Minor: 10, Name: "loop10"},
		}}},
	}
	for dev, want := range map[procfs.Dev]string{
		{Major: 254, Minor: 1}: "vda", {Major: 259, Minor: 2}: "nvme0n1", {Major: 179, Minor: 1}: "mmcblk0", {Major: 7, Minor: 10}: "loop10",
	} {
		if got := m.DiskName(dev); got != want {
			t.Errorf("DiskName(%v) = %q, want %q", dev, got, want)
		}
	}
}
