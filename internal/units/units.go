// Package units parses and prints byte sizes the way iorca's flags and
// messages write them: "16MiB", "512KiB", "1048576".
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are the binary units, largest first; each is also written with
// "B" after its letter (MB) or without the "i" (MB is MiB here, as in
// dd's and the kernel's sizes: a size given to a tool is a power of two).
var units = []struct {
	letter byte
	mult   int64
}{{'T', 1 << 40}, {'G', 1 << 30}, {'M', 1 << 20}, {'K', 1 << 10}}

// ParseBytes parses a byte count: a number, whole or with a fraction
// (1.5GiB), and an optional binary unit in any case — KiB, MiB, GiB, TiB,
// or K, KB, M, MB, ... meaning the same (M is MiB) — or B.
func ParseBytes(s string) (int64, error) {
	t, mult := splitUnit(strings.TrimSpace(s))
	bad := fmt.Errorf("%q is not a byte count (examples: 1048576, 512KiB, 64MB, 1.5GiB; M means MiB)", s)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 {
			return 0, bad
		}
		if n > (1<<62)/mult {
			return 0, fmt.Errorf("%q is too large", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(t, "eExXpP_") {
		return 0, bad
	}
	if f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(f * float64(mult)), nil
}

// splitUnit splits a size into its number and its unit's multiplier.
func splitUnit(t string) (string, int64) {
	u := strings.ToUpper(t)
	for _, un := range units {
		for _, sf := range []string{string(un.letter) + "IB", string(un.letter) + "B", string(un.letter)} {
			if strings.HasSuffix(u, sf) {
				return strings.TrimSpace(t[:len(t)-len(sf)]), un.mult
			}
		}
	}
	if strings.HasSuffix(u, "B") {
		return strings.TrimSpace(t[:len(t)-1]), 1
	}
	return t, 1
}

// FormatBytes prints n with the largest binary unit that keeps it readable.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// Bytes is a pflag/flag Value holding a byte count.
type Bytes int64

// String prints the value as a flag's default and as Set reads it back:
// in the largest binary unit it is a whole number of ("16MiB", "1GiB",
// "1536MiB"), else in bytes.
func (b *Bytes) String() string {
	n := int64(*b)
	for _, un := range units {
		if n != 0 && n%un.mult == 0 {
			return strconv.FormatInt(n/un.mult, 10) + string(un.letter) + "iB"
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set parses a byte count.
func (b *Bytes) Set(s string) error {
	n, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = Bytes(n)
	return nil
}

// Type names the value in help text.
func (b *Bytes) Type() string { return "bytes" }
