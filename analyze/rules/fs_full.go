package rules

import (
	"fmt"
	"sort"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// fsFull reports a filesystem whose space or inodes are nearly used up, as
// df computes it: used / (used + available to unprivileged users).
// Read-only image filesystems (squashfs, iso9660, erofs) are always full
// and are skipped; bind mounts of one filesystem are reported once.
var fsFull = &Rule{ID: "fs-full",
	Role: content.State, Check: checkFSFull, FromState: true,
	Watch: []Watch{AlertFilesystemFull},
}

var alwaysFull = map[string]bool{"squashfs": true, "iso9660": true, "erofs": true, "cramfs": true, "udf": true}

func checkFSFull(c *window.Window) []content.Finding {
	seen := map[string]bool{}
	var out []content.Finding
	sts := append([]bundle.Statfs(nil), c.Model.Statfs...)
	sort.SliceStable(sts, func(i, j int) bool { return len(sts[i].MountPoint) < len(sts[j].MountPoint) })
	for _, s := range sts {
		if s.Status != bundle.StatusOK || alwaysFull[s.FSType] || s.Blocks == 0 {
			continue
		}
		key := fmt.Sprintf("%s|%s|%d|%d", s.Source, s.FSType, s.Blocks, s.Files)
		if m, ok := mountByID(c, s.MountID); ok && m.Major != 0 {
			key = fmt.Sprintf("%d:%d", m.Major, m.Minor)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		used := float64(s.Blocks - s.BlocksFree)
		space := prose.Pct(used, used+float64(s.BlocksAvail))
		inodes := 0.0
		if s.Files > 0 {
			inodes = prose.Pct(float64(s.Files-s.FilesFree), float64(s.Files))
		}
		worst, what := space, "space"
		if inodes > worst {
			worst, what = inodes, "inodes"
		}
		if worst < c.Thresholds.FSFullPct {
			continue
		}
		sev := content.Warning
		if worst >= c.Thresholds.FSCriticalPct {
			sev = content.Critical
		}
		avail := float64(s.BlocksAvail) * float64(s.BlockSize)
		out = append(out, content.Finding{
			ID: "fs-full", Severity: sev, Confidence: content.High, Score: worst,
			Title:    fmt.Sprintf("%s is %.0f %% full (%s)", s.MountPoint, worst, what),
			Summary:  fmt.Sprintf("The %s filesystem at %s (%s) has %.1f %% of its space and %.1f %% of its inodes in use; %s is left for ordinary users.", s.FSType, s.MountPoint, s.Source, space, inodes, prose.Bytes(avail)),
			Subjects: content.Subjects{Mount: s.MountPoint, Device: s.Source},
			Evidence: []content.Evidence{{Member: bundle.StatfsMember,
				What:    fmt.Sprintf("statfs(%s): %d blocks of %d B, %d free, %d available; %d inodes, %d free", s.MountPoint, s.Blocks, s.BlockSize, s.BlocksFree, s.BlocksAvail, s.Files, s.FilesFree),
				Figures: map[string]float64{FigSpaceUsedPct: space, FigInodesUsedPct: inodes, FigAvailBytes: avail}}},
			Mitigations: []content.Mitigation{
				{Horizon: content.Immediate, Action: "Free space on " + s.MountPoint, How: "du -xh --max-depth=2 " + s.MountPoint + " | sort -h; find deleted files still held open: lsof +L1; rotate or truncate runaway logs", Effect: "Writes stop failing with ENOSPC" + reservedNote(s.FSType)},
				{Horizon: content.ShortTerm, Action: "Cap what grows there", How: "Log rotation with size limits; image garbage collection (crictl rmi --prune)", Effect: "It does not fill again"},
				{Horizon: content.LongTerm, Action: "Alert on free space and inodes", How: "node_filesystem_avail_bytes and node_filesystem_files_free (rules below)", Effect: "Hours of warning instead of an outage"},
			},
		})
	}
	return out
}

func mountByID(c *window.Window, id int) (procfs.Mount, bool) {
	for _, m := range c.Model.Mounts {
		if m.ID == id {
			return m, true
		}
	}
	return procfs.Mount{}, false
}

// reservedNote is what freeing space also ends on filesystems that keep
// blocks back for root (ext2/3/4's reserved blocks, tune2fs -m); nothing
// on the others.
func reservedNote(fstype string) string {
	switch fstype {
	case "ext2", "ext3", "ext4":
		return "; " + fstype + " stops reserving its last blocks"
	}
	return ""
}
