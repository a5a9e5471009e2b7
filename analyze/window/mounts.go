package window

import "github.com/iorca/iorca/internal/procfs"

// MountsOf are the mounts whose source is dev, in the mount table of
// the start.
func (c *Window) MountsOf(dev string) []procfs.Mount {
	return c.mountsOn(c.Model.Mounts, dev)
}

// ReadOnlyAtEnd are the mount points of dev's filesystems that are
// read-only at the end of the capture. An error remount makes the
// superblock read-only: the super options say so ("ro", or
// "emergency_ro" for ext4 since 6.x, which leaves "rw" beside it) while
// the mount's own options still say rw.
func (c *Window) ReadOnlyAtEnd(dev string) []string {
	var ro []string
	for _, m := range c.mountsOn(c.Model.MountsEnd, dev) {
		if hasOption(m.Options, "ro") || hasOption(m.SuperOptions, "ro") || hasOption(m.SuperOptions, "emergency_ro") {
			ro = append(ro, m.MountPoint)
		}
	}
	return ro
}

// mountsOn finds dev's mounts by source path or, for a whole device the
// bundle describes, by its major:minor; bind mounts of one filesystem
// are listed once, by the first mount point.
func (c *Window) mountsOn(ms []procfs.Mount, dev string) []procfs.Mount {
	var out []procfs.Mount
	seen := map[string]bool{}
	b := c.Model.Blocks[dev]
	for _, m := range ms {
		match := m.Source == "/dev/"+dev
		if b != nil && m.Major == int(b.Dev.Major) && m.Minor == int(b.Dev.Minor) {
			match = true
		}
		if !match || seen[m.Root] {
			continue
		}
		seen[m.Root] = true
		out = append(out, m)
	}
	return out
}

func hasOption(opts, o string) bool {
	for _, x := range procfs.SplitOptions(opts) {
		if x == o {
			return true
		}
	}
	return false
}
