package procfs

import (
	"bytes"
	"fmt"
	"strconv"
)

// Mapping is one line of /proc/PID/maps (Documentation/filesystems/proc.rst,
// "/proc/PID/maps"): an address range, its permissions, the file offset,
// device and inode it maps, and its path ("" for an anonymous mapping,
// "[heap]" and the like for the kernel's own).
type Mapping struct {
	Start, End uint64
	// Perms is "rwxs" or "rwxp": s is a shared mapping, whose stores
	// dirty the file's page cache; p a private (copy-on-write) one.
	Perms  string
	Offset uint64
	Dev    string
	Inode  uint64
	Path   string
}

// SharedWritable reports a shared mapping that may be written: stores
// through it dirty the mapped file's pages, which msync or writeback
// write back to the file.
func (m Mapping) SharedWritable() bool {
	return len(m.Perms) == 4 && m.Perms[1] == 'w' && m.Perms[3] == 's'
}

// Contains reports whether the address lies in the mapping.
func (m Mapping) Contains(addr uint64) bool { return addr >= m.Start && addr < m.End }

// ParsePIDMaps parses the text of /proc/PID/maps. A path may hold spaces
// (everything after the inode's column, leading blanks trimmed); a
// deleted file keeps the kernel's " (deleted)" suffix.
func ParsePIDMaps(b []byte) ([]Mapping, error) {
	var out []Mapping
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := parseMapping(line)
		if err != nil {
			return out, fmt.Errorf("maps: line %d: %w", n, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMapping(line []byte) (Mapping, error) {
	var m Mapping
	fields := make([][]byte, 0, 6)
	rest := line
	for len(fields) < 5 {
		rest = bytes.TrimLeft(rest, " ")
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			fields = append(fields, rest)
			rest = nil
			break
		}
		fields = append(fields, rest[:i])
		rest = rest[i:]
	}
	if len(fields) < 5 {
		return m, fmt.Errorf("want at least 5 fields, got %d", len(fields))
	}
	lo, hi, ok := bytes.Cut(fields[0], []byte{'-'})
	if !ok {
		return m, fmt.Errorf("address range %q", fields[0])
	}
	var err error
	if m.Start, err = strconv.ParseUint(string(lo), 16, 64); err != nil {
		return m, fmt.Errorf("start address: %w", err)
	}
	if m.End, err = strconv.ParseUint(string(hi), 16, 64); err != nil {
		return m, fmt.Errorf("end address: %w", err)
	}
	m.Perms = string(fields[1])
	if m.Offset, err = strconv.ParseUint(string(fields[2]), 16, 64); err != nil {
		return m, fmt.Errorf("offset: %w", err)
	}
	m.Dev = string(fields[3])
	if m.Inode, err = strconv.ParseUint(string(fields[4]), 10, 64); err != nil {
		return m, fmt.Errorf("inode: %w", err)
	}
	m.Path = string(bytes.TrimLeft(rest, " "))
	return m, nil
}
