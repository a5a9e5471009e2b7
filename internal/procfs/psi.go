package procfs

import (
	"bytes"
	"strconv"
)

// PSILine is one line of a pressure file: the share of time (percent) that
// some or all non-idle tasks were stalled, over 10, 60 and 300 s, and the
// total stall time in microseconds (Documentation/accounting/psi.rst).
type PSILine struct {
	Avg10, Avg60, Avg300 float64
	TotalUS              uint64
}

// PSI is /proc/pressure/io or a cgroup's io.pressure. Full is nil when
// the file has no "full" line (cpu pressure at the system level).
type PSI struct {
	Some, Full *PSILine
}

// ParsePSI parses a pressure file. Lines other than "some" and "full" are
// ignored; a malformed value in them is an error.
func ParsePSI(b []byte) (PSI, error) {
	var p PSI
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
		if len(f) == 0 {
			return nil
		}
		var dst **PSILine
		switch string(f[0]) {
		case "some":
			dst = &p.Some
		case "full":
			dst = &p.Full
		default:
			return nil
		}
		var pl PSILine
		for _, kv := range f[1:] {
			k, v, ok := bytes.Cut(kv, []byte{'='})
			if !ok {
				return lineError("pressure", n, "%q is not key=value", kv)
			}
			var err error
			switch string(k) {
			case "avg10":
				pl.Avg10, err = strconv.ParseFloat(string(v), 64)
			case "avg60":
				pl.Avg60, err = strconv.ParseFloat(string(v), 64)
			case "avg300":
				pl.Avg300, err = strconv.ParseFloat(string(v), 64)
			case "total":
				pl.TotalUS, err = strconv.ParseUint(string(v), 10, 64)
			}
			if err != nil {
				return lineError("pressure", n, "%s: %v", k, err)
			}
		}
		*dst = &pl
		return nil
	})
	return p, err
}
