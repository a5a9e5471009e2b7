package procfs

import (
	"bytes"
	"fmt"
	"strconv"
)

// DiskStat is one device's line of /proc/diskstats, or the content of
// /sys/block/DEV/stat (Documentation/admin-guide/iostats.rst,
// Documentation/block/stat.rst). Sectors are 512 bytes; times are ms.
type DiskStat struct {
	Major, Minor int
	Name         string
	// Stats is how many statistics the line carried: 4 (a 2.6 partition
	// line), 11, 15 (discard, 4.18+) or 17 (flush, 5.5+). Fields beyond it
	// are zero.
	Stats                                                   int
	ReadIOs, ReadMerges, ReadSectors, ReadTicks             uint64
	WriteIOs, WriteMerges, WriteSectors, WriteTicks         uint64
	InFlight, IOTicks, TimeInQueue                          uint64
	DiscardIOs, DiscardMerges, DiscardSectors, DiscardTicks uint64
	FlushIOs, FlushTicks                                    uint64
}

// ParseDiskstats parses /proc/diskstats: "major minor name" then 4, 11, 15
// or 17 statistics (14, 18 or 20 fields in all; 7 for an old partition
// line). A line with another count is an error naming the line, as is a
// field that is not a number; the lines before it are returned.
func ParseDiskstats(b []byte) ([]DiskStat, error) {
	var out []DiskStat
	var f [][]byte // one slice for every line's fields
	err := eachLine(b, func(l []byte, n int) error {
		f = fieldsInto(f[:0], l)
		if len(f) < 3 {
			return lineError("diskstats", n, "want at least 14 fields, got %d", len(f))
		}
		maj, err1 := strconv.Atoi(string(f[0]))
		min, err2 := strconv.Atoi(string(f[1]))
		if err1 != nil || err2 != nil {
			return lineError("diskstats", n, "bad major:minor %q %q", f[0], f[1])
		}
		d, err := diskStat(string(f[2]), f[3:])
		if err != nil {
			return lineError("diskstats", n, "%v", err)
		}
		d.Major, d.Minor = maj, min
		out = append(out, d)
		return nil
	})
	return out, err
}

// ParseBlockStat parses /sys/block/DEV/stat (or DEV/PART/stat), which holds
// the same statistics as a diskstats line without the device columns.
func ParseBlockStat(name string, b []byte) (DiskStat, error) {
	d, err := diskStat(name, bytes.Fields(b))
	if err != nil {
		return DiskStat{}, fmt.Errorf("%s/stat: %w", name, err)
	}
	return d, nil
}

func diskStat(name string, fields [][]byte) (DiskStat, error) {
	n := len(fields)
	switch {
	case n == 4, n >= 11:
	default:
		return DiskStat{}, fmt.Errorf("device %s: want 4, 11, 15 or 17 statistics, got %d", name, n)
	}
	var room [20]uint64 // every statistic of today's kernels, on the stack
	v, err := parseU64s(room[:0], fields)
	if err != nil {
		return DiskStat{}, fmt.Errorf("device %s: %w", name, err)
	}
	d := DiskStat{Name: name}
	if n == 4 {
		// Linux 2.6 partition lines: reads, read sectors, writes, write sectors.
		d.Stats = 4
		d.ReadIOs, d.ReadSectors, d.WriteIOs, d.WriteSectors = v[0], v[1], v[2], v[3]
		return d, nil
	}
	// Like sysstat: 11 or more gives the base set, 15 or more adds
	// discard, 17 adds flush; a count in between uses the smaller set.
	switch {
	case n >= 17:
		d.Stats = 17
	case n >= 15:
		d.Stats = 15
	default:
		d.Stats = 11
	}
	d.ReadIOs, d.ReadMerges, d.ReadSectors, d.ReadTicks = v[0], v[1], v[2], v[3]
	d.WriteIOs, d.WriteMerges, d.WriteSectors, d.WriteTicks = v[4], v[5], v[6], v[7]
	d.InFlight, d.IOTicks, d.TimeInQueue = v[8], v[9], v[10]
	if d.Stats >= 15 {
		d.DiscardIOs, d.DiscardMerges, d.DiscardSectors, d.DiscardTicks = v[11], v[12], v[13], v[14]
	}
	if d.Stats >= 17 {
		d.FlushIOs, d.FlushTicks = v[15], v[16]
	}
	return d, nil
}
