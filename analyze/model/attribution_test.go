package model

import (
	"slices"
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// A hand-made /proc/PID/cgroup of a hybrid host: the labels name each
// hierarchy (its v1 controllers, or unified for v2) and skip the v1
// hierarchies not asked for.
func TestCgroupLabels(t *testing.T) {
	p := &Process{Cgroups: []procfs.CgroupLine{
		{HierarchyID: 12, Controllers: []string{"blkio"}, Path: "/iorca-throttled"},
		{HierarchyID: 7, Controllers: []string{"cpu", "cpuacct"}, Path: "/x"},
		{HierarchyID: 4, Controllers: []string{"memory"}, Path: "/m"},
		{HierarchyID: 0, Path: "/"},
	}}
	got := p.CgroupLabels("blkio", "memory")
	want := []string{"blkio:/iorca-throttled", "memory:/m", "unified:/"}
	if !slices.Equal(got, want) {
		t.Errorf("CgroupLabels = %q, want %q", got, want)
	}
}
