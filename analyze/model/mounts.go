package model

import (
	"strings"

	"github.com/iorca/iorca/internal/procfs"
)

// MountFor returns the mount that holds path: the one whose mount point is
// the longest prefix of path on a path-element boundary; among mounts on
// the same point, the later line (stacked on top) wins.
func MountFor(mounts []procfs.Mount, path string) (procfs.Mount, bool) {
	best := -1
	bestLen := -1
	for i, m := range mounts {
		mp := m.MountPoint
		if !pathHasPrefix(path, mp) {
			continue
		}
		if len(mp) >= bestLen {
			best, bestLen = i, len(mp)
		}
	}
	if best < 0 {
		return procfs.Mount{}, false
	}
	return mounts[best], true
}

func pathHasPrefix(path, prefix string) bool {
	if prefix == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// UpperPath maps a path under the overlay mount m to where its data lives on
// the upper layer's filesystem. The file exists there only after copy-up.
func UpperPath(m procfs.Mount, path string) (string, bool) {
	o, ok := m.Overlay()
	if !ok || o.Upper == "" || !pathHasPrefix(path, m.MountPoint) {
		return "", false
	}
	rel := strings.TrimPrefix(path, m.MountPoint)
	if m.MountPoint == "/" {
		rel = path
	}
	rel = strings.TrimPrefix(rel, "/")
	if rel == "" {
		return o.Upper, true
	}
	return strings.TrimSuffix(o.Upper, "/") + "/" + rel, true
}
