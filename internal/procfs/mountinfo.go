package procfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo (proc(5);
// Documentation/filesystems/proc.rst 3.5). Paths are unescaped: the kernel
// writes space, tab, newline and backslash as \040, \011, \012 and \134.
type Mount struct {
	ID, ParentID int
	Major, Minor int
	// Root is the directory of the filesystem mounted here (a bind mount
	// shows a subdirectory).
	Root       string
	MountPoint string
	Options    string
	// Optional holds the "tag[:value]" fields (shared:N, master:N, ...).
	Optional     []string
	FSType       string
	Source       string
	SuperOptions string
}

// ParseMountinfo parses the text of /proc/PID/mountinfo. A malformed line is
// skipped and reported: the returned mounts hold every good line, and the
// error (if any) joins one error per bad line, so that a caller may use what
// was readable.
func ParseMountinfo(b []byte) ([]Mount, error) {
	var mounts []Mount
	var errs []error
	eachLine(b, func(l []byte, n int) error {
		m, err := parseMountLine(string(l))
		if err != nil {
			errs = append(errs, lineError("mountinfo", n, "%v", err))
			return nil
		}
		mounts = append(mounts, m)
		return nil
	})
	return mounts, errors.Join(errs...)
}

func parseMountLine(l string) (Mount, error) {
	f := strings.Split(l, " ")
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 {
		return Mount{}, fmt.Errorf("want 6 fields, optional fields and a \"-\" separator in %q", l)
	}
	var m Mount
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return Mount{}, fmt.Errorf("mount id: %w", err)
	}
	if m.ParentID, err = strconv.Atoi(f[1]); err != nil {
		return Mount{}, fmt.Errorf("parent id: %w", err)
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return Mount{}, fmt.Errorf("major:minor %q", f[2])
	}
	if m.Major, err = strconv.Atoi(maj); err != nil {
		return Mount{}, fmt.Errorf("major: %w", err)
	}
	if m.Minor, err = strconv.Atoi(min); err != nil {
		return Mount{}, fmt.Errorf("minor: %w", err)
	}
	if f[3] == "" || f[4] == "" {
		return Mount{}, fmt.Errorf("empty root or mount point in %q", l)
	}
	m.Root = UnescapeOctal(f[3])
	m.MountPoint = UnescapeOctal(f[4])
	m.Options = f[5]
	for _, o := range f[6:sep] {
		if o != "" { // two spaces before "-" occur in the wild
			m.Optional = append(m.Optional, o)
		}
	}
	rest := f[sep+1:]
	if len(rest) < 3 {
		// Kernels before 5.1 could print an empty source, which shows
		// as two adjacent spaces and so as an empty field; fewer than
		// three fields means one is missing altogether.
		return Mount{}, fmt.Errorf("want type, source and super options after \"-\" in %q", l)
	}
	m.FSType = UnescapeOctal(rest[0])
	m.Source = UnescapeOctal(rest[1])
	m.SuperOptions = rest[2]
	return m, nil
}

// UnescapeOctal undoes the kernel's mangle(): a backslash followed by
// exactly three octal digits (value at most 0377) is that byte; anything
// else is kept literally.
func UnescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if v, ok := octal3(s[i+1:]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal3(s string) (byte, bool) {
	if len(s) < 3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[:3]) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	if v > 0377 {
		return 0, false
	}
	return byte(v), true
}

// SplitOptions splits a mount option string on commas, except commas inside
// double quotes (an SELinux context="a:b:c1,c2" is one option). The
// kernel escapes a comma inside a value as \054, so values stay whole.
func SplitOptions(s string) []string {
	var out []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// Option returns the unescaped value of the first key=value super option
// named key; a bare flag gives "" and true.
func (m Mount) Option(key string) (string, bool) {
	vals := m.OptionAll(key)
	if len(vals) == 0 {
		return "", false
	}
	return vals[0], true
}

// OptionAll returns the unescaped values of every super option named key,
// in order (overlay's "lowerdir+" repeats).
func (m Mount) OptionAll(key string) []string {
	var out []string
	for _, o := range SplitOptions(m.SuperOptions) {
		k, v, _ := strings.Cut(o, "=")
		if k == key {
			out = append(out, UnescapeOctal(v))
		}
	}
	return out
}

// Overlay describes the layers of an overlayfs mount
// (Documentation/filesystems/overlayfs.rst).
type Overlay struct {
	// Lower lists the lower layers top first.
	Lower []string
	// Upper and Work are empty for a read-only overlay.
	Upper, Work string
}

// Overlay returns the layers of an overlay mount; ok is false for any other
// filesystem type.
func (m Mount) Overlay() (Overlay, bool) {
	if m.FSType != "overlay" {
		return Overlay{}, false
	}
	var o Overlay
	if v, ok := m.Option("lowerdir"); ok {
		o.Lower = splitLowerdir(v)
	}
	// Since 6.8 each layer may be its own "lowerdir+" option, with colons
	// in names left unescaped.
	o.Lower = append(o.Lower, m.OptionAll("lowerdir+")...)
	o.Upper, _ = m.Option("upperdir")
	o.Work, _ = m.Option("workdir")
	return o, true
}

// splitLowerdir splits a legacy lowerdir value on the colons that are not
// escaped with a backslash, and drops those backslashes.
func splitLowerdir(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == ':':
			cur.WriteByte(':')
			i++
		case v[i] == ':':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(out, cur.String())
}
