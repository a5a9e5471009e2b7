// Package units parses and prints byte sizes the way iorca's flags and
// messages write them: "16MiB", "512KiB", "1048576".
package units

import (
	"fmt"
	"strconv"
	"strings"
)

var suffixes = []struct {
	name string
	mult int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

// ParseBytes parses a byte count with an optional binary suffix (KiB, MiB,
// GiB, or K, M, G meaning the same).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, sf := range suffixes {
		if strings.HasSuffix(t, sf.name) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, sf.name)), sf.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a byte count (examples: 1048576, 512KiB, 16MiB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
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

// String prints the value as FormatBytes does, without the space.
func (b *Bytes) String() string { return strings.ReplaceAll(FormatBytes(int64(*b)), " ", "") }

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
