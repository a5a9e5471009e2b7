package procfs

import (
	"bytes"
	"strconv"
	"strings"
)

// CgroupLine is one line of /proc/PID/cgroup (cgroups(7)):
// "hierarchy-ID:controller-list:cgroup-path". In v2 the ID is 0 and the
// controller list empty.
type CgroupLine struct {
	HierarchyID int
	Controllers []string
	Path        string
}

// ParsePIDCgroup parses /proc/PID/cgroup. It splits on the first two
// colons only: a path may hold colons (a systemd-style path handed to a
// non-systemd runc).
func ParsePIDCgroup(b []byte) ([]CgroupLine, error) {
	var out []CgroupLine
	err := eachLine(b, func(l []byte, n int) error {
		parts := bytes.SplitN(l, []byte{':'}, 3)
		if len(parts) != 3 {
			return lineError("cgroup", n, "want id:controllers:path, got %q", truncate(l))
		}
		id, err := strconv.Atoi(string(parts[0]))
		if err != nil {
			return lineError("cgroup", n, "hierarchy id %q", parts[0])
		}
		c := CgroupLine{HierarchyID: id, Path: string(parts[2])}
		if len(parts[1]) > 0 {
			c.Controllers = strings.Split(string(parts[1]), ",")
		}
		out = append(out, c)
		return nil
	})
	return out, err
}
