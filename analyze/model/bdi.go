package model

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/iorca/iorca/internal/procfs"
)

// BDI is one backing device's share of the dirty limit, from
// /sys/class/bdi/MAJ:MIN (REFERENCE-IO.md §14.4). Without StrictLimit the
// kernel throttles no writer while the node's dirty memory stays below
// the free-run ceiling, whatever the device's share; with it the device's
// own share (MaxRatio of the limit, or MaxBytes) holds from the first
// page.
type BDI struct {
	// Name is the bdi's directory name, MAJ:MIN of the device it backs.
	Name string
	Dev  procfs.Dev
	// MinRatio and MaxRatio are percentages of the dirty limit; MinBytes
	// and MaxBytes their absolute counterparts (Linux 6.2 and later; 0
	// when absent or unset). HasBytes says the byte files were read.
	MinRatio, MaxRatio uint64
	MinBytes, MaxBytes uint64
	HasBytes, HasRatio bool
	StrictLimit        bool
	HasStrictLimit     bool
	Settings           map[string]string
}

// Capped reports whether the bdi holds its writers to less than the whole
// dirty limit: a strict limit, a max_bytes, or a max_ratio under 100.
func (b *BDI) Capped() bool {
	return b.StrictLimit || b.MaxBytes > 0 || (b.HasRatio && b.MaxRatio < 100)
}

// bdi records one /sys/class/bdi/NAME/FILE frame.
func (l *loader) bdi(rest string, data []byte) {
	name, file, ok := strings.Cut(rest, "/")
	if !ok || name == "" {
		return
	}
	if l.m.BDIs == nil {
		l.m.BDIs = map[string]*BDI{}
	}
	b := l.m.BDIs[name]
	if b == nil {
		b = &BDI{Name: name, Settings: map[string]string{}}
		b.Dev, _ = procfs.ParseDev(name)
		l.m.BDIs[name] = b
	}
	v := strings.TrimSpace(string(data))
	b.Settings[file] = v
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return
	}
	switch file {
	case "min_ratio":
		b.MinRatio = n
	case "max_ratio":
		b.MaxRatio, b.HasRatio = n, true
	case "min_bytes":
		b.MinBytes, b.HasBytes = n, true
	case "max_bytes":
		b.MaxBytes, b.HasBytes = n, true
	case "strict_limit":
		b.StrictLimit, b.HasStrictLimit = n != 0, true
	}
}

// BDIOf is the bdi of a device, nil when the bundle holds none for it
// (not captured, or a device with no bdi of its own such as a partition,
// whose disk's bdi is used).
func (m *Model) BDIOf(dev procfs.Dev) *BDI {
	if m.BDIs == nil {
		return nil
	}
	return m.BDIs[dev.String()]
}

// memoryStatDirty reads a cgroup's dirty and writeback bytes from its
// memory.stat: v2 file_dirty and file_writeback, v1 total_dirty and
// total_writeback (with descendants) or dirty and writeback.
func memoryStatDirty(b []byte) (dirty, writeback uint64, ok bool) {
	vals := map[string]uint64{}
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		k, v, found := bytes.Cut(l, []byte{' '})
		if !found {
			continue
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		if err == nil {
			vals[string(k)] = n
		}
	}
	for _, keys := range [][2]string{{"file_dirty", "file_writeback"}, {"total_dirty", "total_writeback"}, {"dirty", "writeback"}} {
		d, okd := vals[keys[0]]
		w, okw := vals[keys[1]]
		if okd && okw {
			return d, w, true
		}
	}
	return 0, 0, false
}
