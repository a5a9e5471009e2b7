package model

import (
	"github.com/iorca/iorca/internal/iostat"
	"github.com/iorca/iorca/internal/procfs"
)

// Iostat holds the columns of iostat -x for one device over one interval
// (internal/iostat: the collector's trigger computes the same).
type Iostat = iostat.Stat

// IostatBetween computes iostat -x for one device from the previous and
// the current sample, itvCS centiseconds apart (iostat.Between).
func IostatBetween(prev, cur procfs.DiskStat, itvCS uint64) Iostat {
	return iostat.Between(prev, cur, itvCS)
}

// Reregistered reports sysstat's test for a device removed and added
// again between two samples (iostat.Reregistered).
func Reregistered(prev, cur procfs.DiskStat) bool { return iostat.Reregistered(prev, cur) }
