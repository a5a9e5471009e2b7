package procfs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Dev is a block device number.
type Dev struct{ Major, Minor int }

func (d Dev) String() string { return fmt.Sprintf("%d:%d", d.Major, d.Minor) }

// ParseDev parses "MAJ:MIN".
func ParseDev(s string) (Dev, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return Dev{}, fmt.Errorf("%q is not MAJ:MIN", s)
	}
	maj, err1 := strconv.Atoi(a)
	min, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || maj < 0 || min < 0 {
		return Dev{}, fmt.Errorf("%q is not MAJ:MIN", s)
	}
	return Dev{maj, min}, nil
}

// IOStat is one device's line of a cgroup v2 io.stat
// (Documentation/admin-guide/cgroup-v2.rst): bytes and IOs read, written
// and discarded by the cgroup. Extra keys (io.latency's, io.cost's) are
// kept in Extra.
type IOStat struct {
	RBytes, WBytes, RIOs, WIOs, DBytes, DIOs uint64
	Extra                                    map[string]string
}

// ParseIOStat parses a cgroup v2 io.stat.
func ParseIOStat(b []byte) (map[Dev]IOStat, error) {
	out := map[Dev]IOStat{}
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
		dev, err := ParseDev(string(f[0]))
		if err != nil {
			return lineError("io.stat", n, "%v", err)
		}
		var s IOStat
		for _, kv := range f[1:] {
			k, v, ok := bytes.Cut(kv, []byte{'='})
			if !ok {
				return lineError("io.stat", n, "%q is not key=value", kv)
			}
			var dst *uint64
			switch string(k) {
			case "rbytes":
				dst = &s.RBytes
			case "wbytes":
				dst = &s.WBytes
			case "rios":
				dst = &s.RIOs
			case "wios":
				dst = &s.WIOs
			case "dbytes":
				dst = &s.DBytes
			case "dios":
				dst = &s.DIOs
			default:
				if s.Extra == nil {
					s.Extra = map[string]string{}
				}
				s.Extra[string(k)] = string(v)
				continue
			}
			if *dst, err = strconv.ParseUint(string(v), 10, 64); err != nil {
				return lineError("io.stat", n, "%s: %v", k, err)
			}
		}
		out[dev] = s
		return nil
	})
	return out, err
}

// Unlimited marks a limit of "max" in io.max.
const Unlimited = -1

// IOMax is one device's line of a cgroup v2 io.max; each value is
// Unlimited or a rate (bytes or IOs per second).
type IOMax struct {
	RBPS, WBPS, RIOPS, WIOPS int64
}

// Limited reports whether any of the four limits is set.
func (m IOMax) Limited() bool {
	return m.RBPS != Unlimited || m.WBPS != Unlimited || m.RIOPS != Unlimited || m.WIOPS != Unlimited
}

// ParseIOMax parses a cgroup v2 io.max ("8:16 rbps=2097152 wbps=max ...").
func ParseIOMax(b []byte) (map[Dev]IOMax, error) {
	out := map[Dev]IOMax{}
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
		dev, err := ParseDev(string(f[0]))
		if err != nil {
			return lineError("io.max", n, "%v", err)
		}
		m := IOMax{Unlimited, Unlimited, Unlimited, Unlimited}
		for _, kv := range f[1:] {
			k, v, _ := bytes.Cut(kv, []byte{'='})
			val := int64(Unlimited)
			if string(v) != "max" {
				if val, err = strconv.ParseInt(string(v), 10, 64); err != nil {
					return lineError("io.max", n, "%s: %v", k, err)
				}
			}
			switch string(k) {
			case "rbps":
				m.RBPS = val
			case "wbps":
				m.WBPS = val
			case "riops":
				m.RIOPS = val
			case "wiops":
				m.WIOPS = val
			}
		}
		out[dev] = m
		return nil
	})
	return out, err
}

// BlkioOps is one device's counters in a cgroup v1 blkio.throttle.
// io_service_bytes or io_serviced file (bytes or IOs per operation type).
type BlkioOps struct {
	Read, Write, Sync, Async, Discard, Total uint64
}

// ParseBlkioThrottle parses a v1 blkio.throttle.io_service_bytes or
// io_serviced file ("7:0 Read 6144" lines, then a final "Total N").
func ParseBlkioThrottle(b []byte) (map[Dev]BlkioOps, error) {
	out := map[Dev]BlkioOps{}
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
		if len(f) == 2 && string(f[0]) == "Total" {
			return nil
		}
		if len(f) != 3 {
			return lineError("blkio", n, "want \"MAJ:MIN Op value\", got %q", truncate(l))
		}
		dev, err := ParseDev(string(f[0]))
		if err != nil {
			return lineError("blkio", n, "%v", err)
		}
		v, err := strconv.ParseUint(string(f[2]), 10, 64)
		if err != nil {
			return lineError("blkio", n, "%v", err)
		}
		s := out[dev]
		switch string(f[1]) {
		case "Read":
			s.Read = v
		case "Write":
			s.Write = v
		case "Sync":
			s.Sync = v
		case "Async":
			s.Async = v
		case "Discard":
			s.Discard = v
		case "Total":
			s.Total = v
		}
		out[dev] = s
		return nil
	})
	return out, err
}

// ParseBlkioLimit parses a v1 blkio.throttle.{read,write}_{bps,iops}_device
// file ("MAJ:MIN rate" lines).
func ParseBlkioLimit(b []byte) (map[Dev]uint64, error) {
	out := map[Dev]uint64{}
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
		if len(f) != 2 {
			return lineError("blkio limit", n, "want \"MAJ:MIN rate\", got %q", truncate(l))
		}
		dev, err := ParseDev(string(f[0]))
		if err != nil {
			return lineError("blkio limit", n, "%v", err)
		}
		v, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return lineError("blkio limit", n, "%v", err)
		}
		out[dev] = v
		return nil
	})
	return out, err
}
