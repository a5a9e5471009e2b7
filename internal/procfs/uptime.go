package procfs

import (
	"bytes"
	"fmt"
	"strconv"
)

// Uptime is /proc/uptime: seconds since boot and summed idle seconds.
type Uptime struct {
	// Centiseconds is the uptime as sysstat reads it ("%lu.%lu" as
	// seconds*100 + hundredths): the clock of every iostat and pidstat
	// interval.
	Centiseconds uint64
	Seconds      float64
	IdleSeconds  float64
}

// ParseUptime parses /proc/uptime.
func ParseUptime(b []byte) (Uptime, error) {
	f := bytes.Fields(b)
	if len(f) < 1 {
		return Uptime{}, fmt.Errorf("uptime: empty")
	}
	sec, frac, _ := bytes.Cut(f[0], []byte{'.'})
	s, err := strconv.ParseUint(string(sec), 10, 64)
	if err != nil {
		return Uptime{}, fmt.Errorf("uptime: %w", err)
	}
	var cs uint64
	if len(frac) > 0 {
		if len(frac) > 2 {
			frac = frac[:2]
		}
		c, err := strconv.ParseUint(string(frac), 10, 64)
		if err != nil {
			return Uptime{}, fmt.Errorf("uptime: %w", err)
		}
		if len(frac) == 1 {
			c *= 10
		}
		cs = c
	}
	u := Uptime{Centiseconds: s*100 + cs}
	u.Seconds, _ = strconv.ParseFloat(string(f[0]), 64)
	if len(f) > 1 {
		u.IdleSeconds, _ = strconv.ParseFloat(string(f[1]), 64)
	}
	return u, nil
}
